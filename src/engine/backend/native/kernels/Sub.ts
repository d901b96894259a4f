// Sub on the addon (native/binary.c), broadcasting.
import { Sub } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const subConfig = binaryKernel(Sub, BINARY_OP.sub);
