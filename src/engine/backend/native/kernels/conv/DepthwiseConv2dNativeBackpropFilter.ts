// The gradient of a depthwise convolution with respect to its filter (shared loops).
import {
  backend_util, DepthwiseConv2dNativeBackpropFilter, type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc,
} from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, f32, output, type Ins } from '../util.js';
import { depthwiseBackpropFilter } from '../../../conv/depthwise.js';

const kernel: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Ins;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return cpuKernel(DepthwiseConv2dNativeBackpropFilter)(args);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const df = allocF32(args.backend, filterShape.reduce((a, b) => a * b, 1));
  depthwiseBackpropFilter(f32(args.backend, x), f32(args.backend, dy), info, df);
  return output(args.backend, [...filterShape], 'float32', df);
};

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = { kernelName: DepthwiseConv2dNativeBackpropFilter, backendName: 'native', kernelFunc: kernel };
