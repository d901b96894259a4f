// Select (tf.where) on the addon (native/select.c) for float32 branches.
import { Select, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, cpuKernel, f32, type Ins, output, size, vals } from './util.js';

const select: KernelFunc = (args) => {
  const { condition, t, e } = args.inputs as Ins;
  if (t.dtype !== 'float32' || e.dtype !== 'float32' || condition.dtype !== 'bool') return cpuKernel(Select)(args);
  const n = size(t.shape);
  const rowwise = condition.shape.length === 1 && t.shape.length > 1;
  const inner = rowwise ? (t.shape[0] === 0 ? 1 : n / t.shape[0]) : 1;
  const out = allocF32(args.backend, n);
  if (n > 0) addonOf(args.backend).select(vals(args.backend, condition) as Uint8Array, f32(args.backend, t), f32(args.backend, e), out, inner);
  return output(args.backend, t.shape, 'float32', out);
};

export const selectConfig: KernelConfig = { kernelName: Select, backendName: 'native', kernelFunc: select };
