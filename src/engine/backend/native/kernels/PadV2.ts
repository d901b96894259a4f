// PadV2 (constant padding; the gradient of slice) on the addon (native/slice_pad.c).
import { PadV2, type KernelConfig, type KernelFunc, type PadV2Attrs } from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, type Ins, MAX_RANK, numeric, output, size } from './util.js';

const padV2: KernelFunc = (args) => {
  const { x } = args.inputs as Ins;
  const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0 || x.shape.length > MAX_RANK) {
    return cpuKernel(PadV2)(args);
  }
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = alloc(args.backend, size(shape), x.dtype) as Float32Array | Int32Array;
  addonOf(args.backend).pad(
    numeric(args.backend, x), out, x.shape, paddings.map((p) => p[0]), paddings.map((p) => p[1]), constantValue,
  );
  return output(args.backend, shape, x.dtype, out);
};

export const padV2Config: KernelConfig = { kernelName: PadV2, backendName: 'native', kernelFunc: padV2 };
