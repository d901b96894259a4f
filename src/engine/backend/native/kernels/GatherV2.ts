// GatherV2 (batchDims 0) on the addon (native/gather.c): rows copied with memcpy.
import { GatherV2, util, type GatherV2Attrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, i32, type Ins, numeric, output, size } from './util.js';

const gatherV2: KernelFunc = (args) => {
  const { x, indices } = args.inputs as Ins;
  const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32' || (batchDims ?? 0) !== 0) {
    return cpuKernel(GatherV2)(args);
  }
  const ax = util.parseAxisParam(axis, x.shape)[0];
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const out = alloc(args.backend, size(shape), x.dtype) as Float32Array | Int32Array;
  addonOf(args.backend).gather(
    numeric(args.backend, x), i32(args.backend, indices), out,
    size(x.shape.slice(0, ax)), x.shape[ax], size(x.shape.slice(ax + 1)),
  );
  return output(args.backend, shape, x.dtype, out);
};

export const gatherV2Config: KernelConfig = { kernelName: GatherV2, backendName: 'native', kernelFunc: gatherV2 };
