// Elu on the addon (native/unary.c).
import { Elu } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const eluConfig = unaryKernel(Elu, UNARY_OP.elu);
