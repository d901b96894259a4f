// lowrank: Δh = u·Aᵀ·Bᵀ (identity nonlinearity), A [r, in] and B [out, r] as Python peft stores
// lora_A / lora_B. With composition `scaled` and s = α/r this is LoRA (He et al. Eq. 6). With
// heads: multi it is the per-head form (multihead.ts); with dora, DoRA (dora.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext, LowRankTerm } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import { initLowRankPair } from './init.js';
import { buildMultiHead } from './multihead.js';
import { buildDora } from './dora.js';

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

export const lowrankModule: FunctionModule<'lowrank'> = {
  kind: 'lowrank',
  build(c) {
    const o = c.plan.options;
    if (c.plan.heads === 'multi') return buildMultiHead(c, o.rank, 'identity');
    if (o.dora) return buildDora(c);
    return buildPerSite(c, (site, uDim) => new LowRank(uDim, site.outDim, o.rank),
      (m, _site, uDim) => initLowRankPair(c.init, o.init, m.A, m.B, uDim, o.rank));
  },
};
