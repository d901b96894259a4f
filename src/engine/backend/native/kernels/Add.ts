// Add on the addon (native/binary.c), broadcasting.
import { Add } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const addConfig = binaryKernel(Add, BINARY_OP.add);
