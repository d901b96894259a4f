// Minimum on the addon (native/binary.c), broadcasting.
import { Minimum } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const minimumConfig = binaryKernel(Minimum, BINARY_OP.min);
