// Classifier alignment (MOS, after the authors' _train_clf_alignment, models/mos.py:199-333):
// each class seen so far is summarised by the mean and covariance of its features (under its own
// task's adapter); after every stage the head is re-trained on features sampled from those
// Gaussians (covariance + 1e-4·I), over every class seen, so that the classes of different stages
// are scored on one scale. The head is taken as one linear layer on the pooled features (checked).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import { Rng } from '../data/rng.js';
import { PeftError } from '../../errors.js';
import { crossEntropy } from '../train/losses.js';

export interface ClassStats {
  mean: Float64Array;
  /** Row-major D×D covariance, divided by N − 1 (torch.cov's default). */
  cov: Float64Array;
}

/** Mean and (N − 1) covariance of the rows of x [N, D]. */
export function classStats(rows: readonly Float32Array[]): ClassStats {
  const n = rows.length;
  const d = rows[0]!.length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let i = 0; i < d; i++) mean[i]! += r[i]! / n;
  const cov = new Float64Array(d * d);
  for (const r of rows) {
    for (let i = 0; i < d; i++) {
      const a = r[i]! - mean[i]!;
      for (let j = 0; j < d; j++) cov[i * d + j]! += (a * (r[j]! - mean[j]!)) / Math.max(1, n - 1);
    }
  }
  return { mean, cov };
}

/** Standard normal draws (Box–Muller) from a seeded stream. */
function normals(rng: Rng): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const u = Math.max(rng.nextFloat(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * rng.nextFloat();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

/** Lower Cholesky factor of a symmetric positive-definite D×D matrix (row-major). */
export function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (s <= 0) throw new PeftError('RUN', 'a class covariance is not positive definite', { where: 'classifier alignment' });
        l[i * d + i] = Math.sqrt(s);
      } else l[i * d + j] = s / l[j * d + j]!;
    }
  }
  return l;
}

export interface AlignOptions {
  samplesPerClass: number;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  seed: number;
}

export const ALIGN_DEFAULTS: Omit<AlignOptions, 'seed'> = { samplesPerClass: 256, epochs: 5, batchSize: 64, lr: 0.01, momentum: 0.9 };

/**
 * Re-trains the head (weight [C, D], bias [C] or none) on features sampled per class, with a
 * cross-entropy over `classes` only (SGD with momentum); the head's other rows are left alone.
 */
export function alignClassifier(weight: Param, bias: Param | null, stats: ReadonlyMap<number, ClassStats>, classes: readonly number[], o: AlignOptions): void {
  const d = weight.shape[1]!;
  const rng = Rng.fromSeed(o.seed, 0xa119);
  const normal = normals(rng);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [k, c] of classes.entries()) {
    const st = stats.get(c)!;
    const reg = Float64Array.from(st.cov, (v, i) => (i % (d + 1) === 0 ? v + 1e-4 : v));
    const l = cholesky(reg, d);
    for (let s = 0; s < o.samplesPerClass; s++) {
      const z = Array.from({ length: d }, normal);
      for (let i = 0; i < d; i++) {
        let v = st.mean[i]!;
        for (let j = 0; j <= i; j++) v += l[i * d + j]! * z[j]!;
        xs.push(v);
      }
      ys.push(k);
    }
  }
  const n = ys.length;
  const cols = tf.tensor1d(Int32Array.from(classes), 'int32');
  const w = tf.variable(tf.gather(weight.value, cols));
  const b = bias ? tf.variable(tf.gather(bias.value, cols)) : null;
  const vars = b ? [w, b] : [w];
  const velocity: tf.Tensor[] = vars.map((v) => tf.zerosLike(v));
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.permutation(n);
    for (let s = 0; s < n; s += o.batchSize) {
      const idx = Array.from(order.subarray(s, s + o.batchSize));
      tf.tidy(() => {
        const x = tf.tensor2d(idx.flatMap((i) => xs.slice(i * d, (i + 1) * d)), [idx.length, d]);
        const y = tf.tensor1d(idx.map((i) => ys[i]!), 'int32');
        const { grads } = tf.variableGrads(() => {
          const logits = b ? tf.add(tf.matMul(x, w, false, true), b) : tf.matMul(x, w, false, true);
          return crossEntropy(logits as tf.Tensor2D, y);
        }, vars);
        vars.forEach((v, i) => {
          const vel = tf.add(tf.mul(velocity[i]!, o.momentum), grads[v.name]!);
          velocity[i]!.dispose();
          velocity[i] = tf.keep(vel);
          v.assign(tf.sub(v, tf.mul(vel, o.lr)));
        });
      });
    }
  }
  // scatter the trained rows back into the head
  const put = (p: Param, rows: tf.Tensor) => {
    const full = p.value.arraySync() as number[][] | number[];
    const trained = rows.arraySync() as number[][] | number[];
    classes.forEach((c, k) => { full[c] = trained[k]!; });
    p.set(tf.tensor(full as number[], [...p.shape]));
  };
  put(weight, w);
  if (bias && b) put(bias, b);
  [...vars, ...velocity, cols].forEach((t) => t.dispose());
}
