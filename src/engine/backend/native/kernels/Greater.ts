// Greater on the addon (native/binary.c), broadcasting; bool output.
import { Greater } from '@tensorflow/tfjs-core';
import { compareKernel, COMPARE_OP } from './binary_impl.js';

export const greaterConfig = compareKernel(Greater, COMPARE_OP.greater);
