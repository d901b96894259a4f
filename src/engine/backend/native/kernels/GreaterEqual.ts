// GreaterEqual on the addon (native/binary.c), broadcasting; bool output.
import { GreaterEqual } from '@tensorflow/tfjs-core';
import { compareKernel, COMPARE_OP } from './binary_impl.js';

export const greaterEqualConfig = compareKernel(GreaterEqual, COMPARE_OP.greaterEqual);
