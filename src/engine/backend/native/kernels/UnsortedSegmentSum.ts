// UnsortedSegmentSum (the gradient of gather) on the addon (native/gather.c): one pass,
// where tfjs-backend-cpu does one masked sum per segment.
import { UnsortedSegmentSum, type KernelConfig, type KernelFunc, type UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, cpuKernel, f32, i32, type Ins, output, size } from './util.js';

const unsortedSegmentSum: KernelFunc = (args) => {
  const { x, segmentIds } = args.inputs as Ins;
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') return cpuKernel(UnsortedSegmentSum)(args);
  const n = size(segmentIds.shape);
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const inner = size(rowShape);
  const out = allocF32(args.backend, numSegments * inner);
  addonOf(args.backend).segmentSum(f32(args.backend, x), i32(args.backend, segmentIds), out, numSegments, n === 0 ? 0 : inner);
  return output(args.backend, [numSegments, ...rowShape], 'float32', out);
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'native',
  kernelFunc: unsortedSegmentSum,
};
