// Reciprocal on the addon (native/unary.c).
import { Reciprocal } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const reciprocalConfig = unaryKernel(Reciprocal, UNARY_OP.reciprocal);
