// The gradient of Conv2D with respect to its filter on the addon: dW = colsᵀ · dy by sgemm,
// summed over batch chunks; for a 1×1 stride-1 convolution dW = xᵀ · dy directly.
import { backend_util, Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { allocF32, cpuKernel, f32, output, type Ins } from '../util.js';
import { chunkSize, im2col, isPlainPointwise } from '../../../conv/im2col.js';
import { gemm, release, scratch } from './gemm.js';

const conv2DBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Ins;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad,
    dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (info.dataFormat !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') return cpuKernel(Conv2DBackpropFilter)(args);
  const backend = args.backend;
  const xv = f32(backend, x);
  const dyv = f32(backend, dy);
  const { batchSize: B, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = info;
  const K = info.filterHeight * info.filterWidth * C;
  const dw = allocF32(backend, K * O);
  if (isPlainPointwise(info)) {
    gemm(backend, xv, dyv, dw, K, O, B * OH * OW, true, false);
  } else {
    const rows = OH * OW;
    const nb = chunkSize(info);
    const cols = scratch(backend, nb * rows * K);
    const part = nb < B ? scratch(backend, K * O) : null;
    for (let b0 = 0; b0 < B; b0 += nb) {
      const n = Math.min(nb, B - b0);
      im2col(xv, info, b0, n, cols);
      const into = b0 === 0 || !part ? dw : part;
      gemm(backend, cols, dyv.subarray(b0 * rows * O, (b0 + n) * rows * O), into, K, O, n * rows, true, false);
      if (into === part) for (let i = 0; i < K * O; i++) dw[i] += part[i];
    }
    release(backend, cols);
    if (part) release(backend, part);
  }
  return output(backend, [...filterShape], 'float32', dw);
};

export const conv2DBackpropFilterConfig: KernelConfig = { kernelName: Conv2DBackpropFilter, backendName: 'native', kernelFunc: conv2DBackpropFilter };
