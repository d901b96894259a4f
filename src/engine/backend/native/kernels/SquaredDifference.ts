// SquaredDifference on the addon (native/binary.c), broadcasting.
import { SquaredDifference } from '@tensorflow/tfjs-core';
import { binaryKernel, BINARY_OP } from './binary_impl.js';

export const squaredDifferenceConfig = binaryKernel(SquaredDifference, BINARY_OP.sqdiff);
