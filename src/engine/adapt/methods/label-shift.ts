// The label-shift adapter (Park et al. 2023, Label Shift Adapter for Test-Time Adaptation under
// Covariate and Label Shifts). Before deployment a small network g learns, on the source
// training data with the model frozen, to produce parameters of part of the model for a given
// label distribution q: here the head's input scaling s and bias shift Δb,
//   logits_q(x) = W·(f(x) ⊙ (1 + s(q))) + b + Δb(q),
// trained with the generalised logit-adjusted loss CE(logits_q(x) + log p_s − log q, y) over label
// distributions q drawn at random (Dirichlet), which makes logits_q Bayes-optimal for a target
// with prior q without resampling the source data (p_s: the training labels' frequencies). At test
// time q is estimated online from the predictions (an exponential moving average of the batch's
// mean probabilities, from p_s), fed to g, and the adapted head predicts; it runs alone or on top
// of test-time batch statistics or TENT (--base). Our g: log q (centred) → 64 ReLU → [s, Δb],
// its last layer zero (the source head at first). The authors' exact adapter network is not
// public as code; what this shares with the paper is the estimate → generated parameters →
// logit-adjusted training loop, not their architecture.
import * as tf from '@tensorflow/tfjs-core';
import { Linear } from '../../nn/linear.js';
import type { Batch } from '../../data/batches.js';
import { batchInputs } from '../../train/task-loss.js';
import { createOptimizer } from '../../train/optim/index.js';
import { normalArray, uniformStream } from '../../random.js';
import { forwardBatch, softmaxRows } from '../forward.js';
import type { TtaContext, TtaMethod, TtaRunner } from '../types.js';
import { bnStatsMethod } from './bn-stats.js';
import { tentMethod } from './tent.js';
import { PeftError } from '../../../errors.js';

const HIDDEN = 64;

/** The head Linear that reads the pooled features (the last Linear under the head prefixes of that input size). */
export function headLinear(ctx: TtaContext, dim: number): Linear {
  const found = ctx.model.root.namedModules()
    .filter(([n, m]) => m instanceof Linear && ctx.model.headPrefixes.some((p) => n === p || n.startsWith(p + '.')))
    .map(([, m]) => m as Linear)
    .filter((l) => l.inFeatures === dim && l.outFeatures === ctx.classes);
  if (found.length === 0) {
    throw new PeftError('RECIPE', 'label-shift generates the head\'s parameters, and this model has no linear head over its pooled features', {
      hint: 'use it on ResNet, TensorFlow.js image models, AST or ViT classifiers',
    });
  }
  return found[found.length - 1];
}

/** g: log q → [s (D), Δb (K)]. */
export class ShiftAdapter {
  readonly w1: tf.Variable;
  readonly b1: tf.Variable;
  readonly w2: tf.Variable;
  readonly b2: tf.Variable;
  constructor(readonly K: number, readonly D: number, seed: number) {
    this.w1 = tf.variable(tf.tensor2d(normalArray(K * HIDDEN, Math.sqrt(2 / K), seed), [K, HIDDEN]));
    this.b1 = tf.variable(tf.zeros([HIDDEN]));
    this.w2 = tf.variable(tf.zeros([HIDDEN, D + K]));
    this.b2 = tf.variable(tf.zeros([D + K]));
  }

  vars(): tf.Variable[] {
    return [this.w1, this.b1, this.w2, this.b2];
  }

  /** [s, Δb] for label distributions q [n, K]. */
  apply(q: tf.Tensor2D): { scale: tf.Tensor2D; shift: tf.Tensor2D } {
    const lq = tf.log(tf.add(q, 1e-8));
    const centred = tf.sub(lq, tf.mean(lq, 1, true));
    const h = tf.relu(tf.add(tf.matMul(centred as tf.Tensor2D, this.w1), this.b1));
    const out = tf.add(tf.matMul(h, this.w2), this.b2) as tf.Tensor2D;
    return { scale: tf.slice(out, [0, 0], [-1, this.D]), shift: tf.slice(out, [0, this.D], [-1, this.K]) };
  }

  dispose(): void {
    tf.dispose(this.vars());
  }
}

/** logits_q for features [n, D], one q per row (or one for all). */
export function adaptedLogits(head: Linear, g: ShiftAdapter, features: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor2D {
  const { scale, shift } = g.apply(q);
  return tf.add(head.forward(tf.mul(features, tf.add(scale, 1))), shift) as tf.Tensor2D;
}

/** A Dirichlet(β·1) draw (gamma variates by Marsaglia–Tsang, β ≥ 1 here via the boost). */
function dirichlet(K: number, beta: number, next: () => number): Float32Array {
  const gamma = (a: number): number => {
    if (a < 1) return gamma(a + 1) * next() ** (1 / a);
    const d = a - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        const u1 = next();
        const u2 = next();
        x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  const g = Float32Array.from({ length: K }, () => gamma(beta));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

/** Trains g on the source features: the generalised logit-adjusted loss over random label distributions. */
export async function trainAdapter(ctx: TtaContext, head: Linear, dim: number): Promise<{ g: ShiftAdapter; prior: Float32Array }> {
  if (!ctx.sourceData) throw new PeftError('USAGE', 'label-shift trains its adapter on the run\'s training data, and there is none', { hint: 'run it on a run directory (or a recipe) whose data.train is readable' });
  const source = await ctx.sourceData();
  const K = ctx.classes;
  const feats: Float32Array[] = [];
  const labels: number[] = [];
  for (const b of source.sequential()) {
    const out = forwardBatch(ctx, b);
    if (!out.features) throw new PeftError('RECIPE', 'label-shift needs the features the head reads', { hint: 'this family does not expose them' });
    for (let i = 0; i < b.size; i++) {
      feats.push(out.features.slice(i * dim, (i + 1) * dim));
      labels.push(b.labels![i]);
    }
  }
  const N = labels.length;
  const prior = new Float32Array(K);
  for (const y of labels) prior[y] += 1 / N;
  const X = tf.tensor2d(Float32Array.from(feats.flatMap((f) => Array.from(f))), [N, dim]);
  const Y = tf.tensor1d(Int32Array.from(labels), 'int32');
  const logPrior = tf.log(tf.add(tf.tensor1d(prior), 1e-8));
  const g = new ShiftAdapter(K, dim, ctx.settings.seed);
  const vars = new Map(g.vars().map((v, i) => [`g${i}`, v]));
  const opt = createOptimizer({ name: 'adam', lr: ctx.settings.lr ?? 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, groups: [] }, vars);
  const next = uniformStream(ctx.settings.seed + 17);
  const steps = 300;
  const batch = Math.min(128, N);
  for (let s = 0; s < steps; s++) {
    const idx = Int32Array.from({ length: batch }, () => Math.floor(next() * N));
    // one label distribution per step, of random imbalance (β from 0.1 to 10)
    const q = dirichlet(K, 10 ** (2 * next() - 1), next);
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const xb = tf.gather(X, idx) as tf.Tensor2D;
      const yb = tf.gather(Y, idx) as tf.Tensor1D;
      const qt = tf.tensor2d(q, [1, K]);
      const z = tf.add(tf.sub(adaptedLogits(head, g, xb, qt), tf.log(tf.add(qt, 1e-8))), logPrior);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(yb, K), z) as tf.Scalar;
    }), g.vars());
    value.dispose();
    opt.step(new Map([...vars].map(([n, v]) => [n, grads[v.name]])));
    tf.dispose(Object.values(grads));
  }
  opt.dispose();
  tf.dispose([X, Y, logPrior]);
  ctx.note(`label-shift adapter trained on ${N} source examples (300 steps); source prior ${Array.from(prior).map((p) => p.toFixed(3)).join(' ')}`);
  return { g, prior };
}

export const labelShiftMethod: TtaMethod = {
  name: 'label-shift',
  title: 'label-shift adapter: head parameters generated from the estimated label distribution',
  paper: 'Park et al. 2023, Label Shift Adapter for Test-Time Adaptation under Covariate and Label Shifts',
  modes: ['online'],
  onlineOnly: 'the adapter follows the label distribution as the test batches arrive',
  async start(ctx) {
    const base = ctx.settings.base ?? 'none';
    const m = ctx.settings.momentum ?? 0.9;
    // the features' size, from one probe of the source data
    const probe = ctx.sourceData ? (await ctx.sourceData()).sequential().next().value as Batch | undefined : undefined;
    const dim = probe ? forwardBatch(ctx, probe).dim : 0;
    const head = headLinear(ctx, dim);
    const { g, prior } = await trainAdapter(ctx, head, dim);
    const under: TtaRunner | null = base === 'bn-stats' ? await bnStatsMethod.start(ctx) : base === 'tent' ? await tentMethod.start(ctx) : null;
    let q = Float32Array.from(prior);
    const K = ctx.classes;
    return {
      predict(b) {
        // the base method's pass (TENT updates on it); then features under its state
        if (under) under.predict(b);
        return tf.tidy(() => {
          const out = ctx.model.forward(batchInputs(b), ctx.peft.context({ training: false }));
          const f = out.pooled as tf.Tensor2D;
          const probsOf = (dist: Float32Array) => softmaxRows(adaptedLogits(head, g, f, tf.tensor2d(dist, [1, K])).dataSync() as Float32Array, K);
          const first = probsOf(q);
          const mean = new Float32Array(K);
          for (let i = 0; i < b.size; i++) for (let c = 0; c < K; c++) mean[c] += first[i * K + c] / b.size;
          q = q.map((v, c) => m * v + (1 - m) * mean[c]);
          return probsOf(q);
        });
      },
      restore() {
        under?.restore();
        g.dispose();
      },
    };
  },
};
