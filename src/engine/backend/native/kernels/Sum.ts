// Sum on the addon (native/reduce.c).
import { Sum } from '@tensorflow/tfjs-core';
import { reduceKernel, REDUCE_OP } from './reduce_impl.js';

export const sumConfig = reduceKernel(Sum, REDUCE_OP.sum);
