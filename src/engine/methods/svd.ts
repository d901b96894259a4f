// svd (AdaLoRA, Zhang et al. 2023; Python peft's ADALORA): the update in SVD form P·Λ·Q,
// Δh = u·(A ⊙ E)ᵀ·Bᵀ with A = Q [r, in], E = diag(Λ) [r, 1], B = P [out, r] (peft's lora_A,
// lora_E, lora_B), composed with s = α/(ranknum + 1e-5) as peft does (ranknum = the initial rank;
// the rule is the function table's, src/plan/functions/svd.ts).
// In training two things make it adaptive: an orthogonality penalty on P and Q (extraLoss) and
// a rank allocator that, after every optimizer step, scores each singular triplet and zeroes
// the least important singular values until the budget reaches the target (afterStep).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { OptionsOf } from '../../plan/index.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import { RankAllocator, type AllocatorSettings } from './rank-allocator.js';

export class SvdLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly E: Param;
  readonly B: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter']);
    this.E = this.param('lora_E', [rank, 1], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    const ae = tf.mul(this.A.value, this.E.value) as tf.Tensor2D;
    const low = tf.matMul(u2, ae, false, true);
    return tf.reshape(tf.matMul(low, this.B.value as tf.Tensor2D, false, true), [...lead, this.outDim]);
  }

  /** ‖A·Aᵀ − I‖_F and ‖Bᵀ·B − I‖_F: how far Q and P are from orthonormal. */
  orthogonality(): tf.Scalar[] {
    const eye = tf.eye(this.rank);
    const dist = (cov: tf.Tensor) => tf.sqrt(tf.sum(tf.square(tf.sub(cov, eye)))) as tf.Scalar;
    const a = this.A.value as tf.Tensor2D;
    const b = this.B.value as tf.Tensor2D;
    return [dist(tf.matMul(a, a, false, true)), dist(tf.matMul(b, b, true, false))];
  }
}

/** The rank allocator's settings, from the module's decided options. */
export function svdSettings(o: OptionsOf<'svd'>): AllocatorSettings & { orthReg: number } {
  return {
    initR: o.rank, targetR: o.target_rank, tinit: o.tinit, tfinal: o.tfinal, deltaT: o.delta_t, beta1: o.beta1, beta2: o.beta2, orthReg: o.orth_reg,
  };
}

export const svdModule: FunctionModule<'svd'> = {
  kind: 'svd',
  build(c) {
    const settings = svdSettings(c.plan.options);
    const built = buildPerSite(c, (site, uDim) => new SvdLowRank(uDim, site.outDim, settings.initR), (m) => {
      // peft: E = 0 (the module starts as the identity), A and B ~ N(0, 0.02)
      c.init(m.A, { kind: 'normal', std: 0.02 });
      c.init(m.B, { kind: 'normal', std: 0.02 });
      c.init(m.E, c.plan.options.init === 'random' ? { kind: 'normal', std: 1 } : { kind: 'zeros' });
    });
    const mods = built.modules;
    const allocator = new RankAllocator(mods, settings);
    return {
      attachments: built.attachments,
      extraLoss(): tf.Scalar | null {
        if (settings.orthReg <= 0 || mods.length === 0) return null;
        const terms = mods.flatMap((m) => m.orthogonality());
        return tf.mul(tf.div(tf.addN(terms), terms.length), settings.orthReg) as tf.Scalar;
      },
      afterStep(info) {
        allocator.update(info.step, info.totalSteps, info.grads);
      },
      trainingState: () => allocator.state(),
      restoreTrainingState: (meta, read) => allocator.restore(meta as { pattern?: boolean[][] | null }, read),
    };
  },
};
