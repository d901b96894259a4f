// Insertion and composition, written once for every function: a site module computes Δh from
// u (x for parallel insertion, h for sequential) and composes it back: h + Δh, h + s·Δh with a
// fixed or learned s, or (1 − λ)·h + λ·Δh with λ = σ(u·w + b).
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import type { Attachment, ForwardContext } from '../nn/context.js';
import type { ModulePlan } from '../../recipes/types.js';
import type { InitFn } from './init.js';

/** Gate bias at initialisation: λ = σ(−4) ≈ 0.018, so a gated module starts close to the backbone. */
export const GATE_INIT_BIAS = -4;

export abstract class SiteModule extends Module implements Attachment {
  private insertion: ModulePlan['insertion'] = 'parallel';
  private composition: ModulePlan['composition'] = 'add';
  private fixedScale = 1;
  private scaleParam: Param | null = null;
  private gateW: Param | null = null;
  private gateB: Param | null = null;
  private dropoutRate = 0;

  /** Δh from the module's input u. */
  abstract delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor;

  /**
   * Registers the composition's own parameters (learned scale, gate). Call from the builder
   * after the function's parameters, with u's size; initialise with `initComposition`.
   */
  configureComposition(plan: ModulePlan, uDim: number, scale: number | 'learned'): void {
    this.insertion = plan.insertion;
    this.composition = plan.composition;
    this.dropoutRate = plan.options.dropout ?? 0;
    if (plan.composition === 'scaled') {
      if (scale === 'learned') this.scaleParam = this.param('scale', [1], ['adapter']);
      else this.fixedScale = scale;
    }
    if (plan.composition === 'gated') {
      this.gateW = this.param('gate.weight', [1, uDim], ['adapter']);
      this.gateB = this.param('gate.bias', [1], ['adapter']);
    }
  }

  initComposition(init: InitFn): void {
    if (this.scaleParam) init(this.scaleParam, { kind: 'ones' });
    if (this.gateW) init(this.gateW, { kind: 'zeros' });
    if (this.gateB) init(this.gateB, { kind: 'constant', value: GATE_INIT_BIAS });
  }

  /** The scale s of `scaled` composition as a number (learned ones are read from the tensor). */
  scaleValue(): number {
    if (this.composition !== 'scaled') return 1;
    return this.scaleParam ? this.scaleParam.value.dataSync()[0] : this.fixedScale;
  }

  get compositionKind(): ModulePlan['composition'] {
    return this.composition;
  }

  get insertionKind(): ModulePlan['insertion'] {
    return this.insertion;
  }

  /** The module's input u: x for parallel insertion, h for sequential (a function may refine it). */
  protected input(x: tf.Tensor, h: tf.Tensor): tf.Tensor {
    return this.insertion === 'parallel' ? x : h;
  }

  transform(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const u = this.input(x, h);
    const d = this.delta(ctx.dropout(u, this.dropoutRate), ctx);
    switch (this.composition) {
      case 'add':
        return tf.add(h, d);
      case 'scaled':
        return tf.add(h, tf.mul(d, this.scaleParam ? this.scaleParam.value : this.fixedScale));
      case 'gated': {
        const lam = tf.sigmoid(tf.add(tf.sum(tf.mul(u, tf.reshape(this.gateW!.value, [-1])), -1, true), this.gateB!.value));
        return tf.add(tf.mul(h, tf.sub(1, lam)), tf.mul(d, lam));
      }
    }
  }
}
