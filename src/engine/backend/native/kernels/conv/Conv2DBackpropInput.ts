// The gradient of Conv2D with respect to its input on the addon: dcols = dy · Wᵀ by sgemm, then
// scattered back into dx (col2im); for a 1×1 stride-1 convolution dx = dy · Wᵀ directly.
import { backend_util, Conv2DBackpropInput, type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, f32, output, type Ins } from '../util.js';
import { chunkSize, col2imAdd, isPlainPointwise } from '../../../conv/im2col.js';
import { gemm, release, scratch } from './gemm.js';

const conv2DBackpropInput: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as Ins;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad,
    dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (info.dataFormat !== 'channelsLast' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return cpuKernel(Conv2DBackpropInput)(args);
  const backend = args.backend;
  const dyv = f32(backend, dy);
  const fv = f32(backend, filter);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = info;
  const dx = allocF32(backend, B * H * W * C);
  if (isPlainPointwise(info)) {
    gemm(backend, dyv, fv, dx, B * H * W, C, O, false, true);
  } else {
    dx.fill(0);
    const K = info.filterHeight * info.filterWidth * C;
    const rows = OH * OW;
    const nb = chunkSize(info);
    const cols = scratch(backend, nb * rows * K);
    for (let b0 = 0; b0 < B; b0 += nb) {
      const n = Math.min(nb, B - b0);
      gemm(backend, dyv.subarray(b0 * rows * O, (b0 + n) * rows * O), fv, cols, n * rows, K, O, false, true);
      col2imAdd(cols, info, b0, n, dx);
    }
    release(backend, cols);
  }
  return output(backend, info.inShape, 'float32', dx);
};

export const conv2DBackpropInputConfig: KernelConfig = { kernelName: Conv2DBackpropInput, backendName: 'native', kernelFunc: conv2DBackpropInput };
