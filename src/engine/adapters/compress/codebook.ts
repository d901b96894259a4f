// The codebooks of "Revisiting the Parameter Efficiency of Adapters from the Perspective of
// Precision Redundancy" (Jie et al., ICCV 2023), as their code builds them (binary_adapter/
// utils.py; test/fixtures/reference/binary_adapter/README.md): 2^bits levels for a standard
// normal variable, each the MEDIAN of its cell (not Lloyd–Max's conditional mean): the fixed
// point of thresholds = midpoints of the levels, level k = Φ⁻¹((Φ(t_k) + Φ(t_{k+1})) / 2).
// Their code starts from all-zero levels and runs 500 rounds, which converges for 1, 2 and 4 bits
// but leaves 8-bit levels near 0 unmoved; we start from the normal quantiles (k + ½)/2^bits and
// iterate to convergence: the same levels where theirs converged (to 1e-7), a usable 8-bit book.
import { normalCdf, normalQuantile } from './normal.js';

export const QUANT_BITS = [1, 2, 4, 8] as const;
export type QuantBits = (typeof QUANT_BITS)[number];

export interface Codebook {
  bits: number;
  /** 2^bits levels, ascending. */
  levels: Float64Array;
  /** 2^bits − 1 decision thresholds (midpoints of the previous round's levels), ascending. */
  thresholds: Float64Array;
}

const cache = new Map<number, Codebook>();

export function codebook(bits: number): Codebook {
  const hit = cache.get(bits);
  if (hit) return hit;
  const n = 2 ** bits;
  let levels = Float64Array.from({ length: n }, (_, k) => normalQuantile((k + 0.5) / n));
  let thresholds = new Float64Array(n - 1);
  for (let round = 0; round < 20000; round++) {
    thresholds = new Float64Array(n - 1);
    for (let k = 0; k < n - 1; k++) thresholds[k] = (levels[k] + levels[k + 1]) / 2;
    const P = [0, ...Array.from(thresholds, normalCdf), 1];
    const next = new Float64Array(n);
    let moved = 0;
    for (let k = 0; k < n; k++) {
      next[k] = normalQuantile((P[k] + P[k + 1]) / 2);
      moved = Math.max(moved, Math.abs(next[k] - levels[k]));
    }
    levels = next;
    if (moved < 1e-9) break;
  }
  const cb = { bits, levels, thresholds };
  cache.set(bits, cb);
  return cb;
}

/** The level index of x: the number of thresholds below it. */
export function levelIndex(cb: Codebook, x: number): number {
  const t = cb.thresholds;
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
