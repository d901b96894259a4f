// ClipByValue on the addon (native/unary.c).
import { ClipByValue } from '@tensorflow/tfjs-core';
import { unaryKernel, UNARY_OP } from './unary_impl.js';

export const clipByValueConfig = unaryKernel(ClipByValue, UNARY_OP.clip, (attrs) => [Number(attrs.clipValueMin), Number(attrs.clipValueMax)]);
