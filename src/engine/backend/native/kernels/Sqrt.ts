// Sqrt on the addon (native/unary.c).
import { Sqrt } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const sqrtConfig = unaryKernel(Sqrt, UNARY_OP.sqrt);
