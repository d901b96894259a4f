// DepthwiseConv2dNative on the native backend: the shared channel-contiguous loops
// (../../../conv/depthwise.ts) in place of tfjs-backend-cpu's element-indexed ones.
import { backend_util, DepthwiseConv2dNative, type DepthwiseConv2dNativeAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, f32, output, type Ins } from '../util.js';
import { depthwiseForward } from '../../../conv/depthwise.js';

const depthwiseConv2dNative: KernelFunc = (args) => {
  const { x, filter } = args.inputs as Ins;
  const { strides, pad, dilations, dimRoundingMode } = args.attrs as unknown as DepthwiseConv2dNativeAttrs;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return cpuKernel(DepthwiseConv2dNative)(args);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    strides, dilations ?? [1, 1], pad, dimRoundingMode, true);
  const y = allocF32(args.backend, info.outShape.reduce((a, b) => a * b, 1));
  depthwiseForward(f32(args.backend, x), f32(args.backend, filter), info, y);
  return output(args.backend, info.outShape, 'float32', y);
};

export const depthwiseConv2dNativeConfig: KernelConfig = { kernelName: DepthwiseConv2dNative, backendName: 'native', kernelFunc: depthwiseConv2dNative };
