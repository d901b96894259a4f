// UnsortedSegmentSum for the wasm backend (tfjs-backend-wasm 4.22 has none; it is the gradient
// of gather, i.e. of an embedding lookup). Written in JS over the wasm heap: one pass over the
// rows of x, adding each into the row of its segment; ids outside [0, numSegments) are dropped,
// as on the cpu backend. The output is float32 whatever x's dtype, as the cpu backend's is.
import { UnsortedSegmentSum, util, type KernelConfig, type KernelFunc, type TensorInfo, type UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const unsortedSegmentSum: KernelFunc = (args) => {
  const { x, segmentIds } = args.inputs as Record<string, TensorInfo>;
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  const backend = args.backend as BackendWasm;
  util.assert(x.dtype === 'float32' || x.dtype === 'int32', () => `UnsortedSegmentSum on wasm: unsupported dtype ${x.dtype}`);
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const inner = util.sizeFromShape(rowShape);
  const n = util.sizeFromShape(segmentIds.shape);
  const out = backend.makeOutput([numSegments, ...rowShape], 'float32');
  // Views are taken after makeOutput: allocating may grow (and move) the wasm memory.
  const outVals = backend.typedArrayFromHeap(out);
  const xVals = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  outVals.fill(0);
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outVals[dst + j] += xVals[src + j];
  }
  return out;
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
