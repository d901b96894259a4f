// Prod on the addon (native/reduce.c).
import { Prod } from '@tensorflow/tfjs-core';
import { reduceKernel, REDUCE_OP } from './reduce_impl.js';

export const prodConfig = reduceKernel(Prod, REDUCE_OP.prod);
