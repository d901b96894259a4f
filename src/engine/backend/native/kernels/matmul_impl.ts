// Batched matmul on the addon: transpose flags go straight to sgemm, broadcast batch
// dimensions become repeated offsets; an optional epilogue adds a bias and an activation.
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, output, size } from './util.js';

/** Activation codes of native/gemm.c. */
export const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3, leakyrelu: 4, elu: 5 };

export interface Epilogue {
  bias?: TensorInfo;
  /** 1: a row of n, 2: a scalar, 3: a full [m, n] matrix per batch entry. */
  biasMode?: number;
  act?: number;
  alpha?: number;
}

/** Per output batch entry, the element offset of each operand's matrix. */
function batchOffsets(aBatch: number[], bBatch: number[], outBatch: number[], aMat: number, bMat: number): [Int32Array, Int32Array] {
  const total = size(outBatch);
  const offA = new Int32Array(total);
  const offB = new Int32Array(total);
  const r = outBatch.length;
  const pad = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const as = pad(aBatch);
  const bs = pad(bBatch);
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < total; i++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0; d < r; d++) {
      oa = oa * as[d] + (as[d] === 1 ? 0 : idx[d]);
      ob = ob * bs[d] + (bs[d] === 1 ? 0 : idx[d]);
    }
    offA[i] = oa * aMat;
    offB[i] = ob * bMat;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < outBatch[d]) break;
      idx[d] = 0;
    }
  }
  return [offA, offB];
}

/** The shapes of a matmul: m, n, k and the broadcast batch shape. Throws as tfjs does. */
export function matmulShapes(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const k2 = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  util.assert(
    k === k2,
    () =>
      `Error in matMul: inner shapes (${k}) and (${k2}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
      `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = backend_util.assertAndGetBroadcastShape(aBatch, bBatch);
  return { m, n, k, aBatch, bBatch, batch };
}

export function nativeMatMul(
  backend: unknown,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  epi: Epilogue = {},
): TensorInfo {
  const { m, n, k, aBatch, bBatch, batch } = matmulShapes(a, b, transposeA, transposeB);
  const [offA, offB] = batchOffsets(aBatch, bBatch, batch, m * k, k * n);
  const out = allocF32(backend, size(batch) * m * n);
  addonOf(backend).matmul(
    f32(backend, a), f32(backend, b), out, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, offA, offB,
    epi.bias ? f32(backend, epi.bias) : null, epi.bias ? epi.biasMode ?? 0 : 0, epi.act ?? 0, epi.alpha ?? 0,
  );
  return output(backend, [...batch, m, n], 'float32', out);
}
