// Transpose on the addon (native/transpose.c), float32 and int32.
import { Transpose, type KernelConfig, type KernelFunc, type TransposeAttrs } from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, type Ins, MAX_RANK, numeric, output, size } from './util.js';

const transpose: KernelFunc = (args) => {
  const { x } = args.inputs as Ins;
  const { perm } = args.attrs as unknown as TransposeAttrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length > MAX_RANK) return cpuKernel(Transpose)(args);
  const shape = perm.map((p) => x.shape[p]);
  const out = alloc(args.backend, size(shape), x.dtype) as Float32Array | Int32Array;
  addonOf(args.backend).transpose(numeric(args.backend, x), out, x.shape, perm);
  return output(args.backend, shape, x.dtype, out);
};

export const transposeConfig: KernelConfig = { kernelName: Transpose, backendName: 'native', kernelFunc: transpose };
