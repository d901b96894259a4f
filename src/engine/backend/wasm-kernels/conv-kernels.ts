// The convolution gradients tfjs-backend-wasm 4.22 lacks (a file each), listed for index.ts.
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { depthwiseBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { depthwiseBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';

export const WASM_CONV_KERNELS: readonly KernelConfig[] = [conv2DBackpropFilterConfig, depthwiseBackpropInputConfig, depthwiseBackpropFilterConfig];
