// Mean on the addon (native/reduce.c).
import { Mean } from '@tensorflow/tfjs-core';
import { reduceKernel, REDUCE_OP } from './reduce_impl.js';

export const meanConfig = reduceKernel(Mean, REDUCE_OP.mean);
