// Expm1 on the addon (native/unary.c).
import { Expm1 } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const expm1Config = unaryKernel(Expm1, UNARY_OP.expm1);
