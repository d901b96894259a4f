// Conv2D on the addon: im2col (../../../conv/im2col.ts) and one sgemm per batch chunk; a 1×1
// stride-1 convolution is a single product over x as it is. NCHW or non-float32 inputs go to the
// cpu kernel.
import { backend_util, Conv2D, type Conv2DAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, f32, output, type Ins } from '../util.js';
import { chunkSize, im2col, isPlainPointwise } from '../../../conv/im2col.js';
import { gemm, release, scratch } from './gemm.js';

const conv2D: KernelFunc = (args) => {
  const { x, filter } = args.inputs as Ins;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as Conv2DAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    strides, dilations, pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (info.dataFormat !== 'channelsLast' || x.dtype !== 'float32' || filter.dtype !== 'float32') return cpuKernel(Conv2D)(args);
  const backend = args.backend;
  const xv = f32(backend, x);
  const fv = f32(backend, filter);
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: O, inChannels: C } = info;
  const out = allocF32(backend, B * OH * OW * O);
  if (isPlainPointwise(info)) {
    gemm(backend, xv, fv, out, B * OH * OW, O, C);
  } else {
    const K = info.filterHeight * info.filterWidth * C;
    const rows = OH * OW;
    const nb = chunkSize(info);
    const cols = scratch(backend, nb * rows * K);
    for (let b0 = 0; b0 < B; b0 += nb) {
      const n = Math.min(nb, B - b0);
      im2col(xv, info, b0, n, cols);
      gemm(backend, cols, fv, out.subarray(b0 * rows * O, (b0 + n) * rows * O), n * rows, O, K);
    }
    release(backend, cols);
  }
  return output(backend, info.outShape, 'float32', out);
};

export const conv2DConfig: KernelConfig = { kernelName: Conv2D, backendName: 'native', kernelFunc: conv2D };
