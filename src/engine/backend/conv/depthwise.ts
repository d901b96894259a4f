// Depthwise convolution and its two gradients over channels-last arrays, as loops whose inner
// step runs along the contiguous channels (x [B, H, W, C], filter [kh, kw, C, m], y [B, OH, OW,
// C·m] with output channel c·m + j). Shared by the native and wasm kernels; a depthwise layer's
// work is small next to the full convolutions around it.
import type { ConvInfo } from './im2col.js';

interface Geometry {
  B: number; H: number; W: number; C: number; M: number; OH: number; OW: number; KH: number; KW: number;
  sh: number; sw: number; dh: number; dw: number; top: number; left: number;
}

function geometry(info: ConvInfo): Geometry {
  return {
    B: info.batchSize, H: info.inHeight, W: info.inWidth, C: info.inChannels, M: info.outChannels / info.inChannels,
    OH: info.outHeight, OW: info.outWidth, KH: info.filterHeight, KW: info.filterWidth,
    sh: info.strideHeight, sw: info.strideWidth, dh: info.dilationHeight, dw: info.dilationWidth,
    top: info.padInfo.top, left: info.padInfo.left,
  };
}

/**
 * The one loop every op here runs: for each output pixel and filter tap inside the input, the
 * offsets of x, y and the filter tap; `op` 0 forward, 1 input gradient, 2 filter gradient.
 * Written out (no callback per tap) so that the channel loop is what V8 optimises.
 */
function run(op: 0 | 1 | 2, g: Geometry, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const { C, M } = g;
  const CM = C * M;
  out.fill(0);
  for (let n = 0; n < g.B; n++) {
    for (let oy = 0; oy < g.OH; oy++) {
      for (let ox = 0; ox < g.OW; ox++) {
        const yo = ((n * g.OH + oy) * g.OW + ox) * CM;
        for (let ky = 0; ky < g.KH; ky++) {
          const iy = oy * g.sh - g.top + ky * g.dh;
          if (iy < 0 || iy >= g.H) continue;
          for (let kx = 0; kx < g.KW; kx++) {
            const ix = ox * g.sw - g.left + kx * g.dw;
            if (ix < 0 || ix >= g.W) continue;
            const xo = ((n * g.H + iy) * g.W + ix) * C;
            const fo = (ky * g.KW + kx) * CM;
            if (M === 1) {
              // y += x ⊙ f; dx += dy ⊙ f; df += x ⊙ dy   (a = x or dy, b = f or dy)
              if (op === 0) for (let c = 0; c < C; c++) out[yo + c] += a[xo + c] * b[fo + c];
              else if (op === 1) for (let c = 0; c < C; c++) out[xo + c] += a[yo + c] * b[fo + c];
              else for (let c = 0; c < C; c++) out[fo + c] += a[xo + c] * b[yo + c];
            } else if (op === 0) {
              for (let c = 0; c < C; c++) {
                const v = a[xo + c];
                for (let j = 0; j < M; j++) out[yo + c * M + j] += v * b[fo + c * M + j];
              }
            } else if (op === 1) {
              for (let c = 0; c < C; c++) {
                let s = 0;
                for (let j = 0; j < M; j++) s += a[yo + c * M + j] * b[fo + c * M + j];
                out[xo + c] += s;
              }
            } else {
              for (let c = 0; c < C; c++) {
                const v = a[xo + c];
                for (let j = 0; j < M; j++) out[fo + c * M + j] += v * b[yo + c * M + j];
              }
            }
          }
        }
      }
    }
  }
}

export function depthwiseForward(x: Float32Array, filter: Float32Array, info: ConvInfo, y: Float32Array): void {
  run(0, geometry(info), x, filter, y);
}

export function depthwiseBackpropInput(dy: Float32Array, filter: Float32Array, info: ConvInfo, dx: Float32Array): void {
  run(1, geometry(info), dy, filter, dx);
}

export function depthwiseBackpropFilter(x: Float32Array, dy: Float32Array, info: ConvInfo, df: Float32Array): void {
  run(2, geometry(info), x, dy, df);
}
