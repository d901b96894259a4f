// Batch normalisation over the last (channel) axis, with running statistics as buffers (loaded and
// saved by name, never trained): y = (x − μ) / √(σ² + ε) · γ + β.
//
// Which μ, σ² a pass uses is the module's `stats` setting, which test-time adaptation changes:
//  - 'running': the running (source) statistics — inference, and training a frozen backbone;
//  - 'batch': the statistics of the batch itself (test-time normalisation, TENT);
//  - {alpha}: α·running + (1 − α)·batch, for the mean and the variance (α-BN, You et al. 2021).
// `updates`: in a training pass the layer normalises with the batch's statistics and moves the
// running ones towards them, as torch's train() mode does — on only when a method says so (full
// fine-tuning); otherwise the running statistics stay frozen. `collect` accumulates the batches'
// statistics instead (re-estimating them over a whole data set: the cumulative average torch
// computes with momentum None).
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from './module.js';
import type { ForwardContext } from './context.js';

export type NormStats = 'running' | 'batch' | { alpha: number };

export interface BatchNormOptions {
  eps: number;
  /** Weight of the new batch in the running average (torch's momentum; Keras' is 1 − this). */
  momentum: number;
  /** γ and β exist (Keras' `scale` / `center` may drop them). */
  affine?: { scale: boolean; center: boolean };
  /** Names in the checkpoint: torch weight/bias/running_mean/running_var; Keras gamma/beta/moving_mean/moving_variance. */
  names?: { weight: string; bias: string; mean: string; var: string };
}

const TORCH_NAMES = { weight: 'weight', bias: 'bias', mean: 'running_mean', var: 'running_var' };

/** Sums of batch statistics gathered by `collect`. */
export interface StatsSums {
  batches: number;
  mean: Float32Array;
  variance: Float32Array;
}

export class BatchNorm extends Module {
  readonly weight: Param | null;
  readonly bias: Param | null;
  readonly runningMean: Param;
  readonly runningVar: Param;
  readonly eps: number;
  readonly momentum: number;
  stats: NormStats = 'running';
  updates = false;
  /** When set, each pass normalises with its batch's statistics and adds them here. */
  collect: StatsSums | null = null;

  constructor(readonly channels: number, opts: BatchNormOptions) {
    super();
    const n = opts.names ?? TORCH_NAMES;
    const affine = opts.affine ?? { scale: true, center: true };
    this.weight = affine.scale ? this.param(n.weight, [channels], ['norm', 'batchnorm']) : null;
    this.bias = affine.center ? this.param(n.bias, [channels], ['norm', 'bias', 'batchnorm']) : null;
    this.runningMean = this.buffer(n.mean, [channels], ['running']);
    this.runningVar = this.buffer(n.var, [channels], ['running']);
    this.eps = opts.eps;
    this.momentum = opts.momentum;
  }

  /** Mean and biased variance of x over every axis but the channels. */
  static moments(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const m = tf.moments(x, axes);
    return { mean: m.mean as tf.Tensor1D, variance: m.variance as tf.Tensor1D };
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (this.collect) {
      ({ mean, variance } = BatchNorm.moments(x));
      this.accumulate(mean, variance);
    } else if (ctx.training && this.updates) {
      ({ mean, variance } = BatchNorm.moments(x));
      this.updateRunning(mean, variance, x.size / this.channels);
    } else if (this.stats === 'running') {
      mean = this.runningMean.value;
      variance = this.runningVar.value;
    } else {
      const b = BatchNorm.moments(x);
      if (this.stats === 'batch') ({ mean, variance } = b);
      else {
        const a = this.stats.alpha;
        mean = tf.add(tf.mul(this.runningMean.value, a), tf.mul(b.mean, 1 - a));
        variance = tf.add(tf.mul(this.runningVar.value, a), tf.mul(b.variance, 1 - a));
      }
    }
    // one scale and one shift per channel, so the activation map sees two elementwise ops
    let scale: tf.Tensor = tf.rsqrt(tf.add(variance, this.eps));
    if (this.weight) scale = tf.mul(scale, this.weight.value);
    let shift: tf.Tensor = tf.neg(tf.mul(mean, scale));
    if (this.bias) shift = tf.add(shift, this.bias.value);
    return tf.add(tf.mul(x, scale), shift);
  }

  /** running ← (1 − m)·running + m·batch, the variance unbiased (n/(n − 1)) as torch keeps it. */
  private updateRunning(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    const m = this.momentum;
    const unbiased = n > 1 ? n / (n - 1) : 1;
    // nothing the loss depends on: these add no gradient
    const [newMean, newVar] = tf.tidy(() => [
      tf.add(tf.mul(this.runningMean.value, 1 - m), tf.mul(mean, m)),
      tf.add(tf.mul(this.runningVar.value, 1 - m), tf.mul(variance, m * unbiased)),
    ]);
    this.runningMean.set(newMean);
    this.runningVar.set(newVar);
  }

  private accumulate(mean: tf.Tensor, variance: tf.Tensor): void {
    const c = this.collect!;
    const mv = mean.dataSync();
    const vv = variance.dataSync();
    for (let i = 0; i < this.channels; i++) {
      c.mean[i] += mv[i];
      c.variance[i] += vv[i];
    }
    c.batches++;
  }

  /** Starts gathering batch statistics (see `collect`). */
  startCollecting(): void {
    this.collect = { batches: 0, mean: new Float32Array(this.channels), variance: new Float32Array(this.channels) };
  }

  /** Ends gathering: the running statistics become the averages gathered (nothing when no batch passed). */
  finishCollecting(): void {
    const c = this.collect;
    this.collect = null;
    if (!c || c.batches === 0) return;
    this.runningMean.set(tf.tensor1d(c.mean.map((v) => v / c.batches)));
    this.runningVar.set(tf.tensor1d(c.variance.map((v) => v / c.batches)));
  }
}

/** Every batch-norm layer of a module tree, with its path. */
export function batchNorms(root: Module): [string, BatchNorm][] {
  return root.namedModules().filter((e): e is [string, BatchNorm] => e[1] instanceof BatchNorm);
}
