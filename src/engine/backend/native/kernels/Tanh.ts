// Tanh on the addon (native/unary.c).
import { Tanh } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const tanhConfig = unaryKernel(Tanh, UNARY_OP.tanh);
