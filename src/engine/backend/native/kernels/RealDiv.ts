// RealDiv on the addon (native/binary.c), broadcasting.
import { RealDiv } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const realDivConfig = binaryKernel(RealDiv, BINARY_OP.div);
