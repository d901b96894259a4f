// Relu on the addon (native/unary.c).
import { Relu } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const reluConfig = unaryKernel(Relu, UNARY_OP.relu);
