// Random projections from d to D numbers for a subspace (Li et al. 2018; the constructions of their
// keras_ext/rproj_layers_util.py, regenerated from our seed — torch/TF streams cannot be matched):
//  - Fastfood: LL = 2^⌈log2 D⌉ (exact integer log; theirs uses float logs, which differ only at
//    D = 2^29, 2^31, 2^39), B ∈ {±1}^LL, Π a permutation, G ~ N(0, 1)^LL,
//      P·d = (H·G·Π·H·B·pad(d))[:D] / √(D·Σ G²),   H the unnormalised Walsh–Hadamard matrix,
//    O(LL log LL) per product and 3·LL + 1 frozen numbers;
//  - dense: a Gaussian [D, d] whose columns are normalised to unit norm over all of D.
// Both are differentiable in d (tfjs ops), so ∂L/∂d = Pᵀ·∂L/∂θ comes from autograd.
import * as tf from '@tensorflow/tfjs-core';
import { seedFor, uniformStream, normalArray } from '../random.js';

/** The unnormalised Walsh–Hadamard transform of x [LL] (LL a power of two), natural order. */
export function hadamard(x: tf.Tensor1D): tf.Tensor1D {
  const n = x.shape[0];
  return tf.tidy(() => {
    let t: tf.Tensor = x;
    for (let h = 1; h < n; h *= 2) {
      const blocks = tf.reshape(t, [n / (2 * h), 2, h]);
      const a = tf.slice(blocks, [0, 0, 0], [-1, 1, -1]);
      const b = tf.slice(blocks, [0, 1, 0], [-1, 1, -1]);
      t = tf.reshape(tf.concat([tf.add(a, b), tf.sub(a, b)], 1), [n]);
    }
    return t as tf.Tensor1D;
  });
}

/** 2^⌈log2 D⌉. */
export function paddedSize(D: number): number {
  let LL = 1;
  while (LL < D) LL *= 2;
  return LL;
}

export interface FastfoodFactors {
  /** ±1 [LL]. */
  signs: Float32Array;
  /** Π: entry i of the permuted vector is entry perm[i] [LL]. */
  perm: Int32Array;
  /** N(0, 1) [LL]. */
  gauss: Float32Array;
  D: number;
  LL: number;
}

/** The Fastfood factors for D outputs, from (seed, name). */
export function fastfoodFactors(seed: number, name: string, D: number): FastfoodFactors {
  const LL = paddedSize(D);
  const coin = uniformStream(seedFor(seed, `${name}.signs`));
  const signs = Float32Array.from({ length: LL }, () => (coin() < 0.5 ? -1 : 1));
  const next = uniformStream(seedFor(seed, `${name}.perm`));
  const perm = Int32Array.from({ length: LL }, (_, i) => i);
  for (let i = LL - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const gauss = normalArray(LL, 1, seedFor(seed, `${name}.gauss`));
  return { signs, perm, gauss, D, LL };
}

/** P·d [D] for d [dd] (dd ≤ LL): the Fastfood product with tensors of the factors. */
export function fastfood(d: tf.Tensor1D, f: { signs: tf.Tensor1D; perm: tf.Tensor1D; gauss: tf.Tensor1D; D: number; LL: number; norm: number }): tf.Tensor1D {
  return tf.tidy(() => {
    const x1 = tf.pad(d, [[0, f.LL - d.shape[0]]]) as tf.Tensor1D;
    const x3 = hadamard(tf.mul(f.signs, x1) as tf.Tensor1D);
    const x5 = tf.mul(f.gauss, tf.gather(x3, f.perm)) as tf.Tensor1D;
    const x6 = hadamard(x5);
    return tf.div(tf.slice(x6, [0], [f.D]), f.norm) as tf.Tensor1D;
  });
}

/** √(D·Σ G²): Fastfood's normaliser. */
export function fastfoodNorm(f: FastfoodFactors): number {
  let s = 0;
  for (let i = 0; i < f.LL; i++) s += f.gauss[i] ** 2;
  return Math.sqrt(f.D * s);
}
