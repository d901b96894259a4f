// Log1p on the addon (native/unary.c).
import { Log1p } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const log1pConfig = unaryKernel(Log1p, UNARY_OP.log1p);
