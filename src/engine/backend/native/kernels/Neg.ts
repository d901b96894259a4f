// Neg on the addon (native/unary.c).
import { Neg } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const negConfig = unaryKernel(Neg, UNARY_OP.neg);
