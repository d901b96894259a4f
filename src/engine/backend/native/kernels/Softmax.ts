// Softmax over the last axis on the addon (native/softmax.c).
import { Softmax, type KernelConfig, type KernelFunc, type SoftmaxAttrs } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, cpuKernel, f32, type Ins, output, size } from './util.js';

const softmax: KernelFunc = (args) => {
  const { logits } = args.inputs as Ins;
  const { dim } = args.attrs as unknown as SoftmaxAttrs;
  const rank = logits.shape.length;
  if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return cpuKernel(Softmax)(args);
  const cols = logits.shape[rank - 1];
  const n = size(logits.shape);
  const out = allocF32(args.backend, n);
  addonOf(args.backend).softmax(f32(args.backend, logits), out, cols === 0 ? 0 : n / cols, cols);
  return output(args.backend, logits.shape, 'float32', out);
};

export const softmaxConfig: KernelConfig = { kernelName: Softmax, backendName: 'native', kernelFunc: softmax };
