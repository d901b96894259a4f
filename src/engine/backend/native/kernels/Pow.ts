// Pow on the addon (native/binary.c), broadcasting.
import { Pow } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const powConfig = binaryKernel(Pow, BINARY_OP.pow);
