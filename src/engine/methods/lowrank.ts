// lowrank: Δh = u·Aᵀ·Bᵀ (identity nonlinearity), A [r, in] and B [out, r] as Python peft stores
// lora_A / lora_B. With composition `scaled` and s = α/r this is LoRA (He et al. Eq. 6). With
// heads: multi it is the per-head form (multihead.ts); with dora, DoRA (dora.ts); the other points
// of the family (basis, factorization, branches, experts, init: corda) each have their file.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext, LowRankTerm } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import { initLowRankPair } from './init.js';
import { buildMultiHead } from './multihead.js';
import { buildDora } from './dora.js';
import { buildShared } from './shared-basis.js';
import { buildCombination } from './random-combination.js';
import { buildBank } from './vector-bank.js';
import { buildShards } from './shard-pool.js';
import { buildLdu } from './ldu.js';
import { buildTriangular } from './triangular.js';
import { buildExperts } from './experts.js';
import { buildCorda } from './corda.js';
import { buildBranched } from './branches.js';
import { buildOrthogonal } from './orthogonal.js';
import { buildQuantized } from './quantized.js';
import { buildLowRankSites } from './lowrank-sites.js';

export class LowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly B: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    const low = tf.matMul(u2, this.A.value as tf.Tensor2D, false, true);
    return tf.reshape(tf.matMul(low, this.B.value as tf.Tensor2D, false, true), [...lead, this.outDim]);
  }

  /** LoRA as the fused linear takes it (backend/fused/lora-linear.ts), when this pass is plain. */
  lowRank(ctx: ForwardContext): LowRankTerm | null {
    const scale = this.plainScale(ctx);
    return scale === null ? null : { a: this.A.value, b: this.B.value, scale };
  }
}

/** The builder of each point of the lowrank family: basis, factorization, branches, experts, init. */
export const lowrankModule: FunctionModule<'lowrank'> = {
  kind: 'lowrank',
  build(c) {
    const o = c.plan.options;
    if (c.plan.heads === 'multi') return buildMultiHead(c, o.rank, 'identity');
    if (o.dora) return buildDora(c);
    // convolution sites (LoRA as Conv2d pairs) and FLoRA's Tucker cores: one module class per site kind
    if (o.factorization === 'tucker' || c.sites.some((s) => s.conv)) return buildLowRankSites(c);
    if (o.orthogonal) return buildOrthogonal(c);
    if (o.quantize_bits) return buildQuantized(c);
    if (o.basis === 'shared') return buildShared(c);
    if (o.basis === 'combination') return buildCombination(c);
    if (o.basis === 'bank') return buildBank(c);
    if (o.basis === 'shards') return buildShards(c);
    if (o.factorization === 'ldu') return buildLdu(c);
    if (o.factorization === 'triangular') return buildTriangular(c);
    if (o.experts !== 1) return buildExperts(c);
    if (o.init === 'corda') return buildCorda(c);
    if (o.branches !== 'single' || o.bias) return buildBranched(c);
    return buildPerSite(c, (site, uDim) => new LowRank(uDim, site.outDim, o.rank),
      (m, _site, uDim) => initLowRankPair(c.init, o.init, m.A, m.B, uDim, o.rank));
  },
};
