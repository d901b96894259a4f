// SGD as torch.optim.SGD with dampening 0: weight decay is L2 (d = g + wd·p); with momentum μ the
// buffer is b ← μ·b + d (b = d on the first step) and the step direction is b, or d + μ·b with
// Nesterov; then p ← p − lr·direction.
import * as tf from '@tensorflow/tfjs-core';
import { BaseOptimizer, requireSetting, type UpdateContext, type UpdateResult } from './base.js';
import type { ParamGroupSpec } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  /** Default 0 (no buffer kept). */
  momentum?: number;
  /** Default false; needs momentum > 0. */
  nesterov?: boolean;
  /** L2 penalty; default 0. */
  weightDecay?: number;
  groups?: ParamGroupSpec[];
}

export class Sgd extends BaseOptimizer {
  readonly name = 'sgd' as const;
  private readonly momentum: number;
  private readonly nesterov: boolean;

  constructor(params: Map<string, tf.Variable>, options: SgdOptions) {
    super(params, { lr: options.lr, weightDecay: options.weightDecay ?? 0, groups: options.groups });
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    requireSetting(Number.isFinite(this.momentum) && this.momentum >= 0, 'momentum', `momentum must be a finite number ≥ 0 (got ${this.momentum})`);
    requireSetting(!this.nesterov || this.momentum > 0, 'momentum', 'Nesterov momentum needs momentum > 0');
  }

  protected get bufferNames(): readonly string[] {
    return this.momentum === 0 ? [] : ['momentum_buffer'];
  }

  protected update(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, ctx: UpdateContext): UpdateResult {
    const d = ctx.weightDecay === 0 ? grad : tf.add(grad, tf.mul(param, ctx.weightDecay));
    if (this.momentum === 0) return { param: tf.sub(param, tf.mul(d, ctx.lr)), buffers: [] };
    // clone: the buffer must not be the caller's gradient tensor itself.
    const buf = buffers === null ? tf.clone(d) : tf.add(tf.mul(buffers[0]!, this.momentum), d);
    const direction = this.nesterov ? tf.add(d, tf.mul(buf, this.momentum)) : buf;
    return { param: tf.sub(param, tf.mul(direction, ctx.lr)), buffers: [buf] };
  }
}
