// NotEqual on the addon (native/binary.c), broadcasting; bool output.
import { NotEqual } from '@tensorflow/tfjs-core';
import { compareKernel, COMPARE_OP } from './binary_impl.js';

export const notEqualConfig = compareKernel(NotEqual, COMPARE_OP.notEqual);
