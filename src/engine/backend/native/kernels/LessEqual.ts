// LessEqual on the addon (native/binary.c), broadcasting; bool output.
import { LessEqual } from '@tensorflow/tfjs-core';
import { compareKernel, COMPARE_OP } from './binary_impl.js';

export const lessEqualConfig = compareKernel(LessEqual, COMPARE_OP.lessEqual);
