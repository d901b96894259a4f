// svd (AdaLoRA, Zhang et al. 2023; Python peft's ADALORA): the update in SVD form P·Λ·Q,
// Δh = u·(A ⊙ E)ᵀ·Bᵀ with A = Q [r, in], E = diag(Λ) [r, 1], B = P [out, r] (peft's lora_A,
// lora_E, lora_B), composed with s = α/(ranknum + 1e-5) as peft does (ranknum = the initial rank).
// In training two things make it adaptive: an orthogonality penalty on P and Q (extraLoss) and
// a rank allocator that, after every optimizer step, scores each singular triplet and zeroes
// the least important singular values until the budget reaches the target (afterStep).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { FunctionOptions } from '../../recipes/types.js';
import { SiteModule } from './compose.js';
import type { BuildContext, BuiltModule, FunctionBuilder } from './types.js';
import { RankAllocator, type AllocatorSettings } from './rank-allocator.js';

export class SvdLowRank extends SiteModule {
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

/** AdaLoRA's schedule and regulariser settings, with Python peft's defaults. */
export function svdSettings(o: FunctionOptions): AllocatorSettings & { orthReg: number } {
  const x = o as FunctionOptions & Record<string, number | undefined>;
  const initR = o.rank ?? 12;
  return {
    initR,
    targetR: o.target_rank ?? Math.max(1, Math.round((initR * 2) / 3)),
    tinit: x.tinit ?? 0,
    tfinal: x.tfinal ?? 0,
    deltaT: x.delta_t ?? 1,
    beta1: x.beta1 ?? 0.85,
    beta2: x.beta2 ?? 0.85,
    orthReg: x.orth_reg ?? 0.5,
  };
}

/** peft's scale for AdaLoRA: α / (ranknum + 1e-5). */
export function svdScale(alpha: number, ranknum: number): number {
  return alpha / (ranknum + 1e-5);
}

export const svdBuilder: FunctionBuilder = {
  kind: 'svd',
  build(c: BuildContext): BuiltModule {
    const attachments = new Map();
    const settings = svdSettings(c.plan.options);
    const r = settings.initR;
    const mods: SvdLowRank[] = [];
    for (const site of c.sites) {
      const uDim = c.plan.insertion === 'parallel' ? site.inDim : site.outDim;
      const m = c.store.add(`${site.path}.${c.plan.name}`, new SvdLowRank(uDim, site.outDim, r));
      m.configureComposition(c.plan, uDim, c.plan.scale);
      c.store.nameTree();
      // peft: E = 0 (the module starts as the identity), A and B ~ N(0, 0.02)
      c.init(m.A, { kind: 'normal', std: 0.02 });
      c.init(m.B, { kind: 'normal', std: 0.02 });
      c.init(m.E, c.plan.options.init === 'random' ? { kind: 'normal', std: 1 } : { kind: 'zeros' });
      m.initComposition(c.init);
      attachments.set(site.path, m);
      mods.push(m);
    }
    const allocator = new RankAllocator(mods, settings);
    return {
      attachments,
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
