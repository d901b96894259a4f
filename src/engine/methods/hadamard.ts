// hadamard (LoHa, Hyeon-Woo et al. 2022; Python peft's LOHA): ΔW = (W1a·W1b) ⊙ (W2a·W2b), a
// full-rank-capable update from two rank-r products, and Δh = u·ΔWᵀ. With composition `scaled`
// and s = α/r this is peft's LoHa on a Linear: y = base(x) + s·x·ΔWᵀ. Factors are named and
// shaped as peft saves them: hada_w1_a / hada_w2_a [out, r], hada_w1_b / hada_w2_b [r, in].
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';

export class Hadamard extends SiteModule {
  protected readonly nonlinear = null;
  readonly w1a: Param;
  readonly w1b: Param;
  readonly w2a: Param;
  readonly w2b: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number) {
    super();
    this.w1a = this.param('hada_w1_a', [outDim, rank], ['adapter']);
    this.w1b = this.param('hada_w1_b', [rank, inDim], ['adapter']);
    this.w2a = this.param('hada_w2_a', [outDim, rank], ['adapter']);
    this.w2b = this.param('hada_w2_b', [rank, inDim], ['adapter']);
  }

  /** ΔW = (W1a·W1b) ⊙ (W2a·W2b), [out, in], unscaled. */
  deltaWeight(): tf.Tensor2D {
    const m = (a: Param, b: Param) => tf.matMul(a.value as tf.Tensor2D, b.value as tf.Tensor2D);
    return tf.mul(m(this.w1a, this.w1b), m(this.w2a, this.w2b)) as tf.Tensor2D;
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(u2, this.deltaWeight(), false, true), [...lead, this.outDim]);
  }
}

export const hadamardModule: FunctionModule<'hadamard'> = {
  kind: 'hadamard',
  build(c) {
    const { rank, init } = c.plan.options;
    return buildPerSite(c, (site, uDim) => new Hadamard(uDim, site.outDim, rank), (m, _site, uDim) => {
      // peft's (and FedPara's) He init: three factors Kaiming-uniform, W2b zero, so ΔW starts at 0
      c.init(m.w1a, { kind: 'kaiming', fanIn: rank });
      c.init(m.w1b, { kind: 'kaiming', fanIn: uDim });
      c.init(m.w2a, { kind: 'kaiming', fanIn: rank });
      c.init(m.w2b, init === 'random' ? { kind: 'kaiming', fanIn: uDim } : { kind: 'zeros' });
    });
  },
};
