// Abs on the addon (native/unary.c).
import { Abs } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const absConfig = unaryKernel(Abs, UNARY_OP.abs);
