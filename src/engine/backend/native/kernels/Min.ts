// Min on the addon (native/reduce.c).
import { Min } from '@tensorflow/tfjs-core';
import { reduceKernel, REDUCE_OP } from './reduce_impl.js';

export const minConfig = reduceKernel(Min, REDUCE_OP.min);
