// Log on the addon (native/unary.c).
import { Log } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const logConfig = unaryKernel(Log, UNARY_OP.log);
