// Square on the addon (native/unary.c).
import { Square } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const squareConfig = unaryKernel(Square, UNARY_OP.square);
