// The gradient of a depthwise convolution with respect to its input (shared loops).
import {
  backend_util, DepthwiseConv2dNativeBackpropInput, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc,
} from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, f32, output, type Ins } from '../util.js';
import { depthwiseBackpropInput } from '../../../conv/depthwise.js';

const kernel: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as Ins;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return cpuKernel(DepthwiseConv2dNativeBackpropInput)(args);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const dx = allocF32(args.backend, inputShape.reduce((a, b) => a * b, 1));
  depthwiseBackpropInput(f32(args.backend, dy), f32(args.backend, filter), info, dx);
  return output(args.backend, [...inputShape], 'float32', dx);
};

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = { kernelName: DepthwiseConv2dNativeBackpropInput, backendName: 'native', kernelFunc: kernel };
