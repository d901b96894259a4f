// The gradient of a depthwise convolution with respect to its input, for the wasm backend
// (tfjs-backend-wasm 4.22 has none): the shared channel-contiguous loops (../conv/depthwise.ts)
// over the wasm heap.
import {
  backend_util, DepthwiseConv2dNativeBackpropInput, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { depthwiseBackpropInput } from '../conv/depthwise.js';

const kernel: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const backend = args.backend as BackendWasm;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
  const out = backend.makeOutput([...inputShape], 'float32');
  depthwiseBackpropInput(backend.typedArrayFromHeap(dy) as Float32Array, backend.typedArrayFromHeap(filter) as Float32Array, info,
    backend.typedArrayFromHeap(out) as Float32Array);
  return out;
};

export const depthwiseBackpropInputConfig: KernelConfig = { kernelName: DepthwiseConv2dNativeBackpropInput, backendName: 'wasm', kernelFunc: kernel };
