// Equal on the addon (native/binary.c), broadcasting; bool output.
import { Equal } from '@tensorflow/tfjs-core';
import { compareKernel, COMPARE_OP } from './binary_impl.js';

export const equalConfig = compareKernel(Equal, COMPARE_OP.equal);
