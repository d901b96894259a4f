// Adam as torch.optim.Adam (Kingma & Ba 2015, with bias correction): weight decay is L2, added to
// the gradient (g ← g + wd·p) before the moments see it. AdamW (adamw.ts) decouples it instead.
import * as tf from '@tensorflow/tfjs-core';
import { BaseOptimizer, requireSetting, type UpdateContext, type UpdateResult } from './base.js';
import type { ParamGroupSpec } from './optimizer.js';

export interface AdamOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** L2 penalty; default 0. */
  weightDecay?: number;
  groups?: ParamGroupSpec[];
}

export interface AdamHyper {
  betas: [number, number];
  eps: number;
}

/** Checks betas and eps as torch does (0 ≤ β < 1, eps ≥ 0). */
export function checkAdamHyper(betas: [number, number], eps: number): void {
  betas.forEach((b, i) => requireSetting(Number.isFinite(b) && b >= 0 && b < 1, `betas[${i}]`, `beta must be in [0, 1) (got ${b})`));
  requireSetting(Number.isFinite(eps) && eps >= 0, 'eps', `eps must be a finite number ≥ 0 (got ${eps})`);
}

/**
 * The bias-corrected Adam move of `param` along `grad`, in the order torch computes it:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
 * `buffers` is [m, v], or null on the first step (zeros). Call inside tf.tidy.
 */
export function adamMove(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, lr: number, step: number, hyper: AdamHyper): UpdateResult {
  const [beta1, beta2] = hyper.betas;
  const m0 = buffers?.[0] ?? tf.zerosLike(param);
  const v0 = buffers?.[1] ?? tf.zerosLike(param);
  const m = tf.add(tf.mul(m0, beta1), tf.mul(grad, 1 - beta1));
  const v = tf.add(tf.mul(v0, beta2), tf.mul(tf.mul(grad, grad), 1 - beta2));
  const stepSize = lr / (1 - beta1 ** step);
  const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - beta2 ** step)), hyper.eps);
  return { param: tf.sub(param, tf.mul(tf.div(m, denom), stepSize)), buffers: [m, v] };
}

export class Adam extends BaseOptimizer {
  readonly name = 'adam' as const;
  private readonly hyper: AdamHyper;

  constructor(params: Map<string, tf.Variable>, options: AdamOptions = {}) {
    super(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0, groups: options.groups });
    this.hyper = { betas: options.betas ?? [0.9, 0.999], eps: options.eps ?? 1e-8 };
    checkAdamHyper(this.hyper.betas, this.hyper.eps);
  }

  protected get bufferNames(): readonly string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected update(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, ctx: UpdateContext): UpdateResult {
    const g = ctx.weightDecay === 0 ? grad : tf.add(grad, tf.mul(param, ctx.weightDecay));
    return adamMove(param, g, buffers, ctx.lr, ctx.step, this.hyper);
  }
}
