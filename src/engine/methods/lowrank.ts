// lowrank: Δh = u·Aᵀ·Bᵀ (identity nonlinearity), A [r, in] and B [out, r] as Python peft stores
// lora_A / lora_B. With composition `scaled` and s = α/r this is LoRA (He et al. Eq. 6).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule } from './compose.js';
import type { BuildContext, BuiltModule, FunctionBuilder } from './types.js';
import { buildMultiHead } from './multihead.js';
import { buildDora } from './dora.js';

export class LowRank extends SiteModule {
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

  /** ΔW = s·B·A as [out, in] (for merging). */
  deltaWeight(scale: number): tf.Tensor2D {
    return tf.mul(tf.matMul(this.B.value as tf.Tensor2D, this.A.value as tf.Tensor2D), scale) as tf.Tensor2D;
  }
}

export function lowrankScale(rank: number, alpha: number | undefined, rslora: boolean | undefined): number {
  const a = alpha ?? rank;
  return rslora ? a / Math.sqrt(rank) : a / rank;
}

export const lowrankBuilder: FunctionBuilder = {
  kind: 'lowrank',
  build(c: BuildContext): BuiltModule {
    if (c.plan.heads === 'multi') return buildMultiHead(c, 'identity');
    if (c.plan.options.dora) return buildDora(c);
    const attachments = new Map();
    const r = c.plan.options.rank ?? 8;
    for (const site of c.sites) {
      const uDim = c.plan.insertion === 'parallel' ? site.inDim : site.outDim;
      const m = c.store.add(`${site.path}.${c.plan.name}`, new LowRank(uDim, site.outDim, r));
      m.configureComposition(c.plan, uDim, c.plan.scale);
      c.store.nameTree();
      const init = c.plan.options.init ?? 'lora';
      if (init === 'gaussian') c.init(m.A, { kind: 'normal', std: 1 / r });
      else if (init === 'bert') c.init(m.A, { kind: 'normal', std: 0.02 });
      else c.init(m.A, { kind: 'kaiming', fanIn: uDim });
      if (init === 'random') c.init(m.B, { kind: 'kaiming', fanIn: r });
      else c.init(m.B, { kind: 'zeros' });
      m.initComposition(c.init);
      attachments.set(site.path, m);
    }
    return { attachments };
  },
};
