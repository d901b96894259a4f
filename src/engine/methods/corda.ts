// lowrank with init: corda — CorDA (Yang et al. 2024): LoRA initialised from a decomposition of
// the weight oriented by the context, i.e. by the covariance C of the projection's inputs on
// `calibration_batches` training batches (each row fed alone, unpadded, as the authors' batch-1
// hook):
//   C = mean over forward calls of X̂ᵀX̂, X̂ = X / |max(X)|        (peft's and the authors' hook;
//       the authors divide the sum by a fixed 256, peft by the calls: the split below is peft's)
//   C_d = C + δ·mean(diag C)·I, δ = 0.01 doubled until ‖C_d·C_d⁻¹ − I‖_F < 0.05
//   W·C_d = U·S·Vᵀ,  V' = C_d⁻¹·V   (so W = U·S·V'ᵀ exactly)
//   ipm (instruction-previewed): the r largest components; kpm (knowledge-preserved): the r smallest
//   A = √(S_r/s)·V'_rᵀ [r, in],  B = U_r·√(S_r/s) [out, r]   (s = α/r: s·B·A = U_r·S_r·V'_rᵀ)
// The rest of W stays frozen. Where the authors (and peft) write W − s·B0·A0 into the backbone,
// we leave the backbone untouched and subtract the initial pair in Δ — the same function:
//   Δh = s·u·(B·A − B0·A0)ᵀ,  zero at init.
// B0 and A0 are stored with the adapter: it is written as peft's LORA of rank 2r, [A; A0] and
// [B, −B0] (adapters/peft/corda-config.ts), as peft converts CorDA for the original weights.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { initLowRankPair } from './init.js';
import { inverse, mat, matmul, svd, type Mat } from './linalg.js';
import { setFrozen } from './regenerate.js';
import { siteLinears, weight64 } from './site-weight.js';
import { PeftError } from '../../errors.js';

/** X̂ᵀX̂ of one forward call's inputs X [T, in] (X̂ = X / |max X|), added into `cov`. */
export function addCovariance(cov: Float64Array, x: Float32Array | Float64Array, inDim: number): void {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const scale = Math.abs(max) > 0 ? 1 / Math.abs(max) : 1;
  const rows = x.length / inDim;
  for (let t = 0; t < rows; t++) {
    const o = t * inDim;
    for (let i = 0; i < inDim; i++) {
      const xi = x[o + i] * scale;
      if (xi === 0) continue;
      for (let j = 0; j < inDim; j++) cov[i * inDim + j] += xi * x[o + j] * scale;
    }
  }
}

/** The damped covariance and its inverse (δ doubled from 0.01 until the inverse is accurate). */
export function dampedInverse(cov: Mat): { damped: Mat; inv: Mat; damp: number } {
  const n = cov.rows;
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += cov.data[i * n + i] / n;
  for (let damp = 0.01; damp < 1e6; damp *= 2) {
    const damped = mat(n, n, cov.data);
    for (let i = 0; i < n; i++) damped.data[i * n + i] += damp * meanDiag;
    let inv: Mat;
    try {
      inv = inverse(damped);
    } catch {
      continue;
    }
    const prod = matmul(damped, inv);
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) err += (prod.data[i * n + j] - (i === j ? 1 : 0)) ** 2;
    if (Math.sqrt(err) < 0.05) return { damped, inv, damp };
  }
  throw new PeftError('RUN', 'the inputs\' covariance could not be inverted at any damping', { hint: 'the calibration batches may be empty or constant' });
}

/** CorDA's factors of W [out, in] from the covariance C [in, in]: A [r, in], B [out, r] with s·B·A = U_r·S_r·V'_rᵀ. */
export function cordaFactors(w: Mat, cov: Mat, rank: number, mode: 'kpm' | 'ipm', scale: number): { A: Float32Array; B: Float32Array; S: Float64Array; damp: number } {
  const { damped, inv, damp } = dampedInverse(cov);
  const { U, S, V } = svd(matmul(w, damped));
  const k = S.length;
  const Vp = matmul(inv, V);
  const r = Math.min(rank, k);
  const pick = Array.from({ length: r }, (_, i) => (mode === 'ipm' ? i : k - r + i));
  const A = new Float32Array(r * w.cols);
  const B = new Float32Array(w.rows * r);
  pick.forEach((c, i) => {
    const g = Math.sqrt(S[c] / scale);
    for (let j = 0; j < w.cols; j++) A[i * w.cols + j] = g * Vp.data[j * Vp.cols + c];
    for (let j = 0; j < w.rows; j++) B[j * r + i] = g * U.data[j * U.cols + c];
  });
  return { A, B, S: Float64Array.from(pick, (c) => S[c]), damp };
}

export class CordaLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly B: Param;
  readonly A0: Param;
  readonly B0: Param;
  /** Σ X̂ᵀX̂ while calibrating, and how many forward calls it holds. */
  cov: Float64Array | null = null;
  calls = 0;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
    this.A0 = this.buffer('corda_A0', [rank, inDim], ['adapter', 'stored']);
    this.B0 = this.buffer('corda_B0', [outDim, rank], ['adapter', 'stored']);
  }

  override transform(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    if (this.cov) {
      addCovariance(this.cov, x.dataSync() as Float32Array, this.inDim);
      this.calls++;
    }
    return super.transform(x, h, ctx);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    const pair = (a: Param, b: Param) => tf.matMul(tf.matMul(u2, a.value as tf.Tensor2D, false, true), b.value as tf.Tensor2D, false, true);
    return tf.reshape(tf.sub(pair(this.A, this.B), pair(this.A0, this.B0)), [...lead, this.outDim]);
  }
}

export function buildCorda(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const linears = siteLinears(c, 'CorDA');
  const scale = typeof c.plan.scale === 'number' ? c.plan.scale : 1;
  const built = buildPerSite(c, (site) => new CordaLowRank(site.inDim, site.outDim, o.rank), (m) => {
    // before calibration the pair is LoRA's and the initial pair zero: the module is the identity
    initLowRankPair(c.init, 'lora', m.A, m.B, m.inDim, o.rank);
    if (c.values) {
      setFrozen(m.A0, new Float32Array(m.A0.size));
      setFrozen(m.B0, new Float32Array(m.B0.size));
    }
  });
  const sites = new Map(built.modules.map((m, i) => [m, c.sites[i]]));
  return {
    attachments: built.attachments,
    calibration: {
      batches: o.calibration_batches!,
      start() {
        for (const m of built.modules) {
          m.cov = new Float64Array(m.inDim * m.inDim);
          m.calls = 0;
        }
      },
      finish() {
        for (const m of built.modules) {
          const site = sites.get(m)!;
          const w = weight64(linears.get(site)!);
          if (!w || !m.cov || m.calls === 0) throw new PeftError('RUN', `CorDA saw no inputs at ${site.path}`, { hint: 'the calibration batches did not reach this projection' });
          const cov = mat(m.inDim, m.inDim, m.cov.map((v) => v / m.calls));
          m.cov = null;
          const f = cordaFactors(w, cov, o.rank, o.corda_mode!, scale);
          if (f.A.length !== m.A.size) {
            throw new PeftError('RECIPE', `rank ${o.rank} is more than ${site.path} has components (${Math.min(m.inDim, m.outDim)})`, { where: `method.modules.${c.plan.name}.rank` });
          }
          m.A.set(tf.tensor(f.A, [...m.A.shape]));
          m.B.set(tf.tensor(f.B, [...m.B.shape]));
          setFrozen(m.A0, f.A);
          setFrozen(m.B0, f.B);
        }
      },
    },
  };
}
