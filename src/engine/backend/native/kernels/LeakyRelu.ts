// LeakyRelu on the addon (native/unary.c).
import { LeakyRelu } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const leakyReluConfig = unaryKernel(LeakyRelu, UNARY_OP.leakyrelu, (attrs) => [Number(attrs.alpha ?? 0.2), 0]);
