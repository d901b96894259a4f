// AdamW as torch.optim.AdamW (Loshchilov & Hutter 2019): weight decay decoupled from the
// gradient, p ← p − lr·wd·p (torch: p ← p·(1 − lr·wd)), then the bias-corrected Adam move.
import * as tf from '@tensorflow/tfjs-core';
import { adamMove, checkAdamHyper, type AdamHyper } from './adam.js';
import { BaseOptimizer, type UpdateContext, type UpdateResult } from './base.js';
import type { ParamGroupSpec } from './optimizer.js';

export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled decay; default 1e-2 (torch's default). */
  weightDecay?: number;
  groups?: ParamGroupSpec[];
}

export class AdamW extends BaseOptimizer {
  readonly name = 'adamw' as const;
  private readonly hyper: AdamHyper;

  constructor(params: Map<string, tf.Variable>, options: AdamWOptions = {}) {
    super(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 1e-2, groups: options.groups });
    this.hyper = { betas: options.betas ?? [0.9, 0.999], eps: options.eps ?? 1e-8 };
    checkAdamHyper(this.hyper.betas, this.hyper.eps);
  }

  protected get bufferNames(): readonly string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected update(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, ctx: UpdateContext): UpdateResult {
    return adamMove(param, grad, buffers, ctx.lr, ctx.step, this.hyper, { decay: ctx.weightDecay === 0 ? 1 : 1 - ctx.lr * ctx.weightDecay });
  }
}
