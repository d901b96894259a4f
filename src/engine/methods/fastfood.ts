// Random projections from d to D numbers for a subspace (Li et al. 2018; the constructions of their
// keras_ext/rproj_layers_util.py, regenerated from our seed — torch/TF streams cannot be matched):
//  - Fastfood: LL = 2^⌈log2 D⌉ (exact integer log; theirs uses float logs, which differ only at
//    D = 2^29, 2^31, 2^39), B ∈ {±1}^LL, Π a permutation, G ~ N(0, 1)^LL,
//      P·d = (H·G·Π·H·B·pad(d))[:D] / √(D·Σ G²),   H the unnormalised Walsh–Hadamard matrix,
//    H applied as a Kronecker product of small Sylvester matrices, 3·LL + 1 frozen numbers;
//  - dense: a Gaussian [D, d] whose columns are normalised to unit norm over all of D.
// Both are differentiable in d (tfjs ops), so ∂L/∂d = Pᵀ·∂L/∂θ comes from autograd.
import * as tf from '@tensorflow/tfjs-core';
import { seedFor, uniformStream, normalArray } from '../random.js';

const SYLVESTER = new Map<number, tf.Tensor2D>();

/** H_n [n, n], H[i, j] = (−1)^popcount(i & j), kept for reuse. */
function sylvester(n: number): tf.Tensor2D {
  let h = SYLVESTER.get(n);
  if (!h) {
    const m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let c = 0;
        for (let v = i & j; v; v &= v - 1) c++;
        m[i * n + j] = c % 2 ? -1 : 1;
      }
    }
    h = tf.keep(tf.tensor2d(m, [n, n]));
    SYLVESTER.set(n, h);
  }
  return h;
}

/**
 * The unnormalised Walsh–Hadamard transform of x [LL] (LL a power of two), natural order. H_LL is
 * the Kronecker product of smaller Sylvester matrices (H_{ab} = H_a ⊗ H_b), so x reshaped to
 * [a, b, …] is multiplied by each factor along its axis: a few matrix products instead of log2 LL
 * elementwise butterfly passes (two orders of magnitude faster in tfjs).
 */
export function hadamard(x: tf.Tensor1D): tf.Tensor1D {
  const n = x.shape[0];
  const bits = Math.round(Math.log2(n));
  const parts = Math.max(1, Math.ceil(bits / 9));
  const sizes = Array.from({ length: parts }, (_, i) => 2 ** (Math.floor(bits / parts) + (i < bits % parts ? 1 : 0)));
  return tf.tidy(() => {
    let t: tf.Tensor = tf.reshape(x, sizes);
    // apply the factor of the last axis, then rotate the axes; after `parts` turns the order is back
    for (let turn = 0; turn < parts; turn++) {
      const shape = t.shape;
      const last = shape[shape.length - 1];
      t = tf.reshape(tf.matMul(tf.reshape(t, [-1, last]) as tf.Tensor2D, sylvester(last)), shape);
      if (parts > 1) t = tf.transpose(t, [parts - 1, ...Array.from({ length: parts - 1 }, (_, i) => i)]);
    }
    return tf.reshape(t, [n]) as tf.Tensor1D;
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
