// A linear layer with the Hugging Face (torch nn.Linear) layout: weight [out, in], y = x·Wᵀ + b.
// GPT-2's Conv1D stores [in, out] (y = x·W + b): `layout: 'in_out'` keeps its file layout so the
// parameter loads and saves by name unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from './module.js';
import { loraLinear, loraLinearAvailable } from '../backend/fused/index.js';
import type { LowRankTerm } from './context.js';

export interface LinearOptions {
  bias?: boolean;
  layout?: 'out_in' | 'in_out';
  tags?: string[];
  /** Parameter names in the checkpoint (Keras' Dense: kernel / bias). */
  names?: { weight: string; bias: string };
}

export class Linear extends Module {
  readonly weight: Param;
  readonly bias: Param | null;
  readonly layout: 'out_in' | 'in_out';

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.layout = opts.layout ?? 'out_in';
    const shape = this.layout === 'out_in' ? [outFeatures, inFeatures] : [inFeatures, outFeatures];
    this.weight = this.param(opts.names?.weight ?? 'weight', shape, ['linear', ...(opts.tags ?? [])]);
    this.bias = opts.bias === false ? null : this.param(opts.names?.bias ?? 'bias', [outFeatures], ['bias', ...(opts.tags ?? [])]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardWith(x, this.weight.value, this.bias?.value ?? null);
  }

  /** y = x·W(ᵀ) + b with a given weight in this layer's layout (for weight-space methods). */
  forwardWith(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
    let y = tf.matMul(x2, weight as tf.Tensor2D, false, this.layout === 'out_in');
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [...lead, this.outFeatures]);
  }

  /**
   * This layer plus a low-rank term, x·W(ᵀ) + b + s·(x·Aᵀ)·Bᵀ, as one fused op where the backend
   * has it (the same maths as forward() followed by the module's transform); null elsewhere.
   */
  forwardLowRank(x: tf.Tensor, t: LowRankTerm): tf.Tensor | null {
    if (!loraLinearAvailable()) return null;
    return loraLinear(x, this.weight.value, this.bias?.value ?? null, t.a, t.b, t.scale, this.layout);
  }

  /** The weight as [out, in] whatever the storage layout (for merging and exporting deltas). */
  weightOutIn(): tf.Tensor2D {
    const w = this.weight.value as tf.Tensor2D;
    return this.layout === 'out_in' ? w : tf.transpose(w);
  }
}
