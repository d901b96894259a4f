// Prelu on the addon (native/binary.c), broadcasting.
import { Prelu } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const preluConfig = binaryKernel(Prelu, BINARY_OP.prelu, ['x', 'alpha']);
