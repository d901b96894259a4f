// The native backend's convolution kernels (registered by ../index.ts with the others): full
// convolutions as im2col + the addon's sgemm, depthwise ones as channel-contiguous loops.
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DConfig } from './Conv2D.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { depthwiseConv2dNativeConfig } from './DepthwiseConv2dNative.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';

export const convConfigs: KernelConfig[] = [
  conv2DConfig, conv2DBackpropInputConfig, conv2DBackpropFilterConfig,
  depthwiseConv2dNativeConfig, depthwiseConv2dNativeBackpropInputConfig, depthwiseConv2dNativeBackpropFilterConfig,
];
