// Erf on the addon (native/unary.c).
import { Erf } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const erfConfig = unaryKernel(Erf, UNARY_OP.erf);
