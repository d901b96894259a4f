// Relu6 on the addon (native/unary.c).
import { Relu6 } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const relu6Config = unaryKernel(Relu6, UNARY_OP.relu6);
