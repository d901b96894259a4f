// The gradient of a depthwise convolution with respect to its filter, for the wasm backend
// (tfjs-backend-wasm 4.22 has none): the shared loops (../conv/depthwise.ts) over the wasm heap.
import {
  backend_util, DepthwiseConv2dNativeBackpropFilter, type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { depthwiseBackpropFilter } from '../conv/depthwise.js';

const kernel: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const backend = args.backend as BackendWasm;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const out = backend.makeOutput([...filterShape], 'float32');
  depthwiseBackpropFilter(backend.typedArrayFromHeap(x) as Float32Array, backend.typedArrayFromHeap(dy) as Float32Array, info,
    backend.typedArrayFromHeap(out) as Float32Array);
  return out;
};

export const depthwiseBackpropFilterConfig: KernelConfig = { kernelName: DepthwiseConv2dNativeBackpropFilter, backendName: 'wasm', kernelFunc: kernel };
