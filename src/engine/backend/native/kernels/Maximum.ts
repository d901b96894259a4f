// Maximum on the addon (native/binary.c), broadcasting.
import { Maximum } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const maximumConfig = binaryKernel(Maximum, BINARY_OP.max);
