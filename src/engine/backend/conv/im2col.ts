// Convolution as a matrix product, for backends whose fast path is a GEMM (the native addon's
// sgemm, wasm's XNNPACK product): the patches of x [B, H, W, C] (channels-last) are laid out as
// rows [B·OH·OW, kh·kw·C] in the filter's own order ([kh, kw, C, O] read as [kh·kw·C, O]), so
//   y  = cols · W,  dW = colsᵀ · dy,  dcols = dy · Wᵀ  (then scattered back into dx).
// Pure array code over a tfjs Conv2DInfo (explicit, 'same' or 'valid' padding already resolved
// into padInfo); callers chunk the batch to bound the size of `cols`.
import type { backend_util } from '@tensorflow/tfjs-core';

export type ConvInfo = backend_util.Conv2DInfo;

/** Elements of one batch entry's patch matrix. */
export function colsPerImage(info: ConvInfo): number {
  return info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
}

/** 1×1, stride 1, no padding: x itself is the patch matrix. */
export function isPlainPointwise(info: ConvInfo): boolean {
  const p = info.padInfo;
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    p.top === 0 && p.left === 0 && p.bottom === 0 && p.right === 0;
}

/** Elements a chunk's patch matrix may hold (32 MiB of float32); tests lower it to exercise chunking. */
let chunkBudget = 1 << 23;

export function setChunkBudget(elements: number): number {
  const before = chunkBudget;
  chunkBudget = elements;
  return before;
}

/** Batch entries per chunk so that a chunk's patch matrix holds at most `budget` elements. */
export function chunkSize(info: ConvInfo, budget = chunkBudget): number {
  return Math.max(1, Math.min(info.batchSize, Math.floor(budget / Math.max(1, colsPerImage(info)))));
}

/** Patch rows of batch entries [b0, b0 + nb) into `cols` (zeros where the window is in the padding). */
export function im2col(x: Float32Array, info: ConvInfo, b0: number, nb: number, cols: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowLen = KH * KW * C;
  let r = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, r++) {
        let o = r * rowLen;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < KW; kx++, o += C) {
            const ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) cols.fill(0, o, o + C);
            else cols.set(x.subarray(xb + (iy * W + ix) * C, xb + (iy * W + ix) * C + C), o);
          }
        }
      }
    }
  }
}

/** Adds patch rows back into dx (the transpose of im2col), for batch entries [b0, b0 + nb). */
export function col2imAdd(cols: Float32Array, info: ConvInfo, b0: number, nb: number, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowLen = KH * KW * C;
  let r = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, r++) {
        let o = r * rowLen;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < KW; kx++, o += C) {
            const ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const d = xb + (iy * W + ix) * C;
            for (let c = 0; c < C; c++) dx[d + c] += cols[o + c];
          }
        }
      }
    }
  }
}
