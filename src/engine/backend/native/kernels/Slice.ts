// Slice on the addon (native/slice_pad.c) when the slice is not one contiguous run (a
// contiguous one stays tfjs-backend-cpu's, which returns a view without copying).
import { Slice, slice_util, type KernelConfig, type KernelFunc, type SliceAttrs } from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, type Ins, MAX_RANK, numeric, output, size } from './util.js';

const slice: KernelFunc = (args) => {
  const { x } = args.inputs as Ins;
  const { begin, size: sizeAttr } = args.attrs as unknown as SliceAttrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0 || x.shape.length > MAX_RANK) {
    return cpuKernel(Slice)(args);
  }
  const [b, s] = slice_util.parseSliceParams(x, begin, sizeAttr);
  slice_util.assertParamsValid(x, b, s);
  if (slice_util.isSliceContinous(x.shape, b, s)) return cpuKernel(Slice)(args);
  const out = alloc(args.backend, size(s), x.dtype) as Float32Array | Int32Array;
  addonOf(args.backend).slice(numeric(args.backend, x), out, x.shape, b, s);
  return output(args.backend, s, x.dtype, out);
};

export const sliceConfig: KernelConfig = { kernelName: Slice, backendName: 'native', kernelFunc: slice };
