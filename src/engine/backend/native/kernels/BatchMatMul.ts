// BatchMatMul on the addon (cblas_sgemm); non-float32 inputs go to the cpu kernel.
import { BatchMatMul, type BatchMatMulAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { nativeMatMul } from './matmul_impl.js';
import { cpuKernel, type Ins, MAX_RANK } from './util.js';

const batchMatMul: KernelFunc = (args) => {
  const { a, b } = args.inputs as Ins;
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2 ||
    a.shape.length > MAX_RANK || b.shape.length > MAX_RANK) {
    return cpuKernel(BatchMatMul)(args);
  }
  return nativeMatMul(args.backend, a, b, transposeA, transposeB);
};

export const batchMatMulConfig: KernelConfig = { kernelName: BatchMatMul, backendName: 'native', kernelFunc: batchMatMul };
