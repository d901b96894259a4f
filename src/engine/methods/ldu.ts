// lowrank with factorization: ldu — LoLDU (Shi et al. 2024). The projection's weight is decomposed
// once, W = P·L·D·U (LU with partial pivoting, D = diag(U), U made unit upper), and truncated to
// k = min(rank, in, out) components. L and U stay frozen; the diagonal z [k] and a scale s train:
//   W_eff = W − s0·P·L·diag(z0)·U + s·P·L·diag(z)·U,   i.e.  Δh = u·Uᵀ·diag(s·z − s0·z0)·(P·L)ᵀ,
// with z0 = D[:k] and s0 = α/rank the values at init, so the module starts as the identity (the
// authors subtract the same scaled term from W into a residual; we leave W untouched and
// subtract it in Δ — the same function). As the paper, z and s both train (the authors'
// get_loldu_params selects z alone); r + 1 numbers per projection. P·L, U and z0 are derived
// from the backbone's weight again when an adapter loads, so only z and s are stored.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { lu, type Mat } from './linalg.js';
import { setFrozen } from './regenerate.js';
import { siteLinears, weight64 } from './site-weight.js';

/** P·L [out, k], diag D [k] and unit-upper U [k, in] of W [out, in], truncated to k components. */
export function ldu(w: Mat, k: number): { lower: Float32Array; d: Float32Array; upper: Float32Array } {
  const { L, U, rowOf } = lu(w);
  const full = Math.min(w.rows, w.cols);
  const lower = new Float32Array(w.rows * k);
  for (let i = 0; i < w.rows; i++) for (let j = 0; j < k; j++) lower[rowOf[i] * k + j] = L.data[i * full + j];
  const d = new Float32Array(k);
  const upper = new Float32Array(k * w.cols);
  for (let i = 0; i < k; i++) {
    const piv = U.data[i * w.cols + i];
    d[i] = piv;
    // a zero pivot (a rank-deficient W) leaves that component at z0 = 0 with U's row as it is
    for (let j = 0; j < w.cols; j++) upper[i * w.cols + j] = U.data[i * w.cols + j] / (piv === 0 ? 1 : piv);
  }
  return { lower, d, upper };
}

export class LduLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly z: Param;
  readonly scaling: Param;
  readonly lower: Param;
  readonly upper: Param;
  readonly z0: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly k: number, readonly s0: number) {
    super();
    this.z = this.param('vector_z', [k], ['adapter']);
    this.scaling = this.param('scaling_factor', [1], ['adapter']);
    this.lower = this.buffer('ldu_lower', [outDim, k], ['adapter']);
    this.upper = this.buffer('ldu_upper', [k, inDim], ['adapter']);
    this.z0 = this.buffer('ldu_z0', [k], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const diag = tf.sub(tf.mul(this.z.value, this.scaling.value), tf.mul(this.z0.value, this.s0));
    const low = tf.mul(tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, this.upper.value as tf.Tensor2D, false, true), diag);
    return tf.reshape(tf.matMul(low as tf.Tensor2D, this.lower.value as tf.Tensor2D, false, true), [...lead, this.outDim]);
  }
}

export function buildLdu(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const s0 = o.alpha / o.rank;
  const linears = siteLinears(c, 'LoLDU');
  const built = buildPerSite(c, (site) => new LduLowRank(site.inDim, site.outDim, Math.min(o.rank, site.inDim, site.outDim), s0), (m, site) => {
    c.init(m.scaling, { kind: 'constant', value: s0 });
    const w = c.values ? weight64(linears.get(site)!) : null;
    if (!w) return;
    const { lower, d, upper } = ldu(w, m.k);
    setFrozen(m.lower, lower);
    setFrozen(m.upper, upper);
    setFrozen(m.z0, d);
    c.init(m.z, { kind: 'values', values: d });
  });
  return { attachments: built.attachments };
}
