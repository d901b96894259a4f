// Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none, so no convolution
// filter could train there): dW = colsᵀ · dy, the patch matrix built in JS over the wasm heap
// (../conv/im2col.ts) and the product run by wasm's own BatchMatMul (XNNPACK), chunk by chunk
// over the batch and summed with its Add. A 1×1 stride-1 convolution uses x as the patch matrix.
import { backend_util, Conv2DBackpropFilter, getKernel, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chunkSize, im2col, isPlainPointwise } from '../conv/im2col.js';

function call(backend: BackendWasm, name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
  const k = getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
}

const conv2DBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const backend = args.backend as BackendWasm;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad,
    dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (info.dataFormat !== 'channelsLast') throw new Error('Conv2DBackpropFilter on wasm: only NHWC (channels-last) is supported');
  const { batchSize: B, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = info;
  const K = info.filterHeight * info.filterWidth * C;
  const rows = OH * OW;
  const temps: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (temps.push(t), t);
  try {
    let sum: TensorInfo | null = null;
    const nb = isPlainPointwise(info) ? B : chunkSize(info);
    for (let b0 = 0; b0 < B; b0 += nb) {
      const n = Math.min(nb, B - b0);
      let cols: TensorInfo;
      if (isPlainPointwise(info)) cols = keep(call(backend, 'Reshape', { x }, { shape: [1, B * rows, K] }));
      else {
        cols = keep(backend.makeOutput([1, n * rows, K], 'float32'));
        // views after makeOutput: allocating may move the wasm memory
        im2col(backend.typedArrayFromHeap(x) as Float32Array, info, b0, n, backend.typedArrayFromHeap(cols) as Float32Array);
      }
      const dyAll = keep(call(backend, 'Reshape', { x: dy }, { shape: [B * rows, O] }));
      const dyPart = n === B ? dyAll : keep(call(backend, 'Slice', { x: dyAll }, { begin: [b0 * rows, 0], size: [n * rows, O] }));
      const dy3 = keep(call(backend, 'Reshape', { x: dyPart }, { shape: [1, n * rows, O] }));
      const part = keep(call(backend, 'BatchMatMul', { a: cols, b: dy3 }, { transposeA: true, transposeB: false }));
      sum = sum === null ? part : keep(call(backend, 'Add', { a: sum, b: part }));
    }
    const out = call(backend, 'Reshape', { x: sum! }, { shape: [...filterShape] });
    // Reshape shares data with its input: copy so the temporaries can go
    const own = call(backend, 'Identity', { x: out });
    temps.push(out);
    return own;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
};

export const conv2DBackpropFilterConfig: KernelConfig = { kernelName: Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2DBackpropFilter };
