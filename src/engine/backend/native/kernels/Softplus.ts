// Softplus on the addon (native/unary.c).
import { Softplus } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const softplusConfig = unaryKernel(Softplus, UNARY_OP.softplus);
