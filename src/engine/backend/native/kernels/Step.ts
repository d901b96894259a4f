// Step on the addon (native/unary.c).
import { Step } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const stepConfig = unaryKernel(Step, UNARY_OP.step, (attrs) => [Number(attrs.alpha ?? 0), 0]);
