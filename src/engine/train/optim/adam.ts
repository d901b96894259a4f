// Adam as torch.optim.Adam (Kingma & Ba 2015, with bias correction): weight decay is L2, added to
// the gradient (g ← g + wd·p) before the moments see it. AdamW (adamw.ts) decouples it instead.
import * as tf from '@tensorflow/tfjs-core';
import { BaseOptimizer, requireSetting, type UpdateContext, type UpdateResult } from './base.js';
import { adamUpdate } from '../../backend/fused/index.js';
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
 * after Adam's L2 term (g ← g + l2·p) or AdamW's decay (p ← p·decay) when given. `buffers` is
 * [m, v], or null on the first step (zeros). One kernel on native (the same float32 operations).
 * Call inside tf.tidy.
 */
export function adamMove(
  param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, lr: number, step: number, hyper: AdamHyper,
  weight: { l2?: number; decay?: number } = {},
): UpdateResult {
  return adamUpdate(param, grad, buffers, { lr, step, betas: hyper.betas, eps: hyper.eps, l2: weight.l2 ?? 0, decay: weight.decay ?? 1 });
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
    return adamMove(param, grad, buffers, ctx.lr, ctx.step, this.hyper, { l2: ctx.weightDecay });
  }
}
