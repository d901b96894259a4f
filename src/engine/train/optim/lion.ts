// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
//   c = β1·m + (1−β1)·g;  p ← p − lr·(sign(c) + wd·p);  m ← β2·m + (1−β2)·g
// The decay is applied as p·(1 − lr·wd) before the signed step, which is the same update.
import * as tf from '@tensorflow/tfjs-core';
import { BaseOptimizer, requireSetting, type UpdateContext, type UpdateResult } from './base.js';
import type { ParamGroupSpec } from './optimizer.js';

export interface LionOptions {
  /** Default 1e-4 (the paper suggests 3–10× smaller than AdamW's). */
  lr?: number;
  /** Default [0.9, 0.99]. */
  betas?: [number, number];
  /** Decoupled decay; default 0. */
  weightDecay?: number;
  groups?: ParamGroupSpec[];
}

export class Lion extends BaseOptimizer {
  readonly name = 'lion' as const;
  private readonly betas: [number, number];

  constructor(params: Map<string, tf.Variable>, options: LionOptions = {}) {
    super(params, { lr: options.lr ?? 1e-4, weightDecay: options.weightDecay ?? 0, groups: options.groups });
    this.betas = options.betas ?? [0.9, 0.99];
    this.betas.forEach((b, i) => requireSetting(Number.isFinite(b) && b >= 0 && b <= 1, `betas[${i}]`, `beta must be in [0, 1] (got ${b})`));
  }

  protected get bufferNames(): readonly string[] {
    return ['exp_avg'];
  }

  protected update(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, ctx: UpdateContext): UpdateResult {
    const [beta1, beta2] = this.betas;
    const m0 = buffers?.[0] ?? tf.zerosLike(param);
    const c = tf.add(tf.mul(m0, beta1), tf.mul(grad, 1 - beta1));
    const decayed = ctx.weightDecay === 0 ? param : tf.mul(param, 1 - ctx.lr * ctx.weightDecay);
    const m = tf.add(tf.mul(m0, beta2), tf.mul(grad, 1 - beta2));
    return { param: tf.sub(decayed, tf.mul(tf.sign(c), ctx.lr)), buffers: [m] };
  }
}
