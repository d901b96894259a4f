import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from './module.js';

/** LayerNorm over the last axis (biased variance, as torch). */
export class LayerNorm extends Module {
  readonly weight: Param;
  readonly bias: Param | null;
  constructor(readonly dim: number, readonly eps: number, opts: { bias?: boolean } = {}) {
    super();
    this.weight = this.param('weight', [dim], ['norm']);
    this.bias = opts.bias === false ? null : this.param('bias', [dim], ['norm', 'bias']);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.mul(centered, centered), -1, true);
    let y = tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps))), this.weight.value);
    if (this.bias) y = tf.add(y, this.bias.value);
    return y;
  }
}

/** RMSNorm (LLaMA, T5's LayerNorm): x / sqrt(mean(x²) + eps) · w, no centering, no bias. */
export class RMSNorm extends Module {
  readonly weight: Param;
  constructor(readonly dim: number, readonly eps: number) {
    super();
    this.weight = this.param('weight', [dim], ['norm']);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const ms = tf.mean(tf.mul(x, x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.eps))), this.weight.value);
  }
}
