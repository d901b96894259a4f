// Multiply on the addon (native/binary.c), broadcasting.
import { Multiply } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const multiplyConfig = binaryKernel(Multiply, BINARY_OP.mul);
