// Tile on the addon (native/tile.c), float32 and int32; tf.broadcastTo is built on it.
import { Tile, type KernelConfig, type KernelFunc, type TileAttrs } from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, type Ins, MAX_RANK, numeric, output, size } from './util.js';

const tile: KernelFunc = (args) => {
  const { x } = args.inputs as Ins;
  const { reps } = args.attrs as unknown as TileAttrs;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length > MAX_RANK || reps.length !== x.shape.length) {
    return cpuKernel(Tile)(args);
  }
  const shape = x.shape.map((d, i) => d * reps[i]);
  const out = alloc(args.backend, size(shape), x.dtype) as Float32Array | Int32Array;
  addonOf(args.backend).tile(numeric(args.backend, x), out, x.shape, reps);
  return output(args.backend, shape, x.dtype, out);
};

export const tileConfig: KernelConfig = { kernelName: Tile, backendName: 'native', kernelFunc: tile };
