// Exp on the addon (native/unary.c).
import { Exp } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const expConfig = unaryKernel(Exp, UNARY_OP.exp);
