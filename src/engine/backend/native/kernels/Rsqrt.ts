// Rsqrt on the addon (native/unary.c).
import { Rsqrt } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const rsqrtConfig = unaryKernel(Rsqrt, UNARY_OP.rsqrt);
