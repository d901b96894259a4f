// Reductions on the addon (native/reduce.c), registered from one table: tfjs kernel name → the
// addon's op code (and the attr holding the axes, where it is not `axis`). The reduced axes, when
// they are one contiguous block, are reduced in place as [outer, r, inner]; otherwise the addon
// first transposes them innermost. float32 only; other dtypes go to the cpu kernel.
import { Max, Mean, Min, Prod, Sum, backend_util, util, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, cpuKernel, f32, type Ins, MAX_RANK, output, size } from './util.js';
import type { NativeBackend } from '../backend.js';

/** Op codes of native/reduce.c. */
const OP = { sum: 0, mean: 1, max: 2, min: 3, prod: 4 } as const;

const REDUCE: readonly [kernelName: string, op: number, axisAttr?: string][] = [
  [Max, OP.max, 'reductionIndices'],
  [Mean, OP.mean],
  [Min, OP.min],
  [Prod, OP.prod],
  [Sum, OP.sum],
];

function reduceKernel(kernelName: string, op: number, axisAttr = 'axis'): KernelConfig {
  const fallback: KernelFunc = (args) => cpuKernel(kernelName)(args);
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as Ins;
    const backend = args.backend as NativeBackend;
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank > MAX_RANK) return fallback(args);
    const attrs = args.attrs as Record<string, unknown>;
    const axes = [...new Set(util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape))].sort((p, q) => p - q);
    const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const out = allocF32(backend, size(outShape));
    const addon = addonOf(backend);
    const src = f32(backend, x);
    if (axes.length === 0) {
      addon.reduce(op, src, out, size(x.shape), 1, 1);
    } else if (axes.every((a, i) => a === axes[0] + i)) {
      const first = axes[0];
      const last = axes[axes.length - 1];
      addon.reduce(op, src, out, size(x.shape.slice(0, first)), size(reduceShape), size(x.shape.slice(last + 1)));
    } else {
      const perm = [...x.shape.keys()].filter((d) => !axes.includes(d)).concat(axes);
      const moved = allocF32(backend, size(x.shape));
      addon.transpose(src, moved, x.shape, perm);
      addon.reduce(op, moved, out, size(outShape), size(reduceShape), 1);
      backend.release(moved);
    }
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return output(backend, shape, 'float32', out);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export const reduceConfigs: readonly KernelConfig[] = REDUCE.map(([name, op, axisAttr]) => reduceKernel(name, op, axisAttr));
