// lowrank with quantize_bits: LoRA trained through b-bit fake quantisation of lora_A and lora_B
// (fake-quantize.ts: the precision-redundancy paper's Bi-LoRA). Its parameters are the latent
// float weights; every forward pass, training and inference alike, uses their quantised values.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { initLowRankPair } from './init.js';
import { fakeQuantize } from './fake-quantize.js';

export class QuantizedLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly B: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, readonly bits: number) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const A = fakeQuantize(this.A.value, this.bits) as tf.Tensor2D;
    const B = fakeQuantize(this.B.value, this.bits) as tf.Tensor2D;
    const low = tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, A, false, true);
    return tf.reshape(tf.matMul(low, B, false, true), [...lead, this.outDim]);
  }
}

export function buildQuantized(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  return buildPerSite(c, (site, uDim) => new QuantizedLowRank(uDim, site.outDim, o.rank, o.quantize_bits!),
    // B cannot start at exactly zero (its std would be 0): the paper's small truncated normal instead
    (m, _site, uDim) => {
      initLowRankPair(c.init, o.init, m.A, m.B, uDim, o.rank);
      c.init(m.B, { kind: 'uniform', bound: 0.001 });
    });
}
