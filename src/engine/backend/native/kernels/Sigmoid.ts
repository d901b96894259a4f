// Sigmoid on the addon (native/unary.c).
import { Sigmoid } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const sigmoidConfig = unaryKernel(Sigmoid, UNARY_OP.sigmoid);
