// Cast on the native backend: int32/bool → float32 gets a real Float32Array (tfjs-backend-cpu
// relabels the input's Int32Array/Uint8Array instead, which the addon cannot read as float32);
// every other cast is tfjs-backend-cpu's.
import { Cast, type CastAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, type Ins, output, size, vals } from './util.js';

const cast: KernelFunc = (args) => {
  const { x } = args.inputs as Ins;
  const { dtype } = args.attrs as unknown as CastAttrs;
  if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return cpuKernel(Cast)(args);
  const out = allocF32(args.backend, size(x.shape));
  out.set(vals(args.backend, x));
  return output(args.backend, x.shape, 'float32', out);
};

export const castConfig: KernelConfig = { kernelName: Cast, backendName: 'native', kernelFunc: cast };
