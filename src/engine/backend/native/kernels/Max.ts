// Max on the addon (native/reduce.c).
import { Max } from '@tensorflow/tfjs-core';
import { reduceKernel, REDUCE_OP } from './reduce_impl.js';

export const maxConfig = reduceKernel(Max, REDUCE_OP.max, 'reductionIndices');
