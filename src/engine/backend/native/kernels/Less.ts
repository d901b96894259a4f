// Less on the addon (native/binary.c), broadcasting; bool output.
import { Less } from '@tensorflow/tfjs-core';
import { compareKernel, COMPARE_OP } from './binary_impl.js';

export const lessConfig = compareKernel(Less, COMPARE_OP.less);
