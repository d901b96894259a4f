// SaRA's low-rank constraint: λ·‖P‖_* on the sparse trainable matrix P = W ⊙ M (the selected
// entries' current values, zero elsewhere), whose gradient is λ·U·Vᵀ (A = U·Σ·Vᵀ, the polar factor
// of A; zero along zero singular values: the smallest subgradient). The polar factor comes from
// the Newton–Schulz iteration X ← X·(3I − XᵀX)/2 from X₀ = A/‖A‖_F, which needs matrix products
// only (so it runs on the backend's matmul); it stops when an iteration moves X by less than tol.
import * as tf from '@tensorflow/tfjs-core';

/** U·Vᵀ of A (same shape): the polar factor, by Newton–Schulz. */
export function polarFactor(a: tf.Tensor2D, maxIter = 100, tol = 1e-7): tf.Tensor2D {
  const [m, n] = a.shape;
  // iterate on the orientation with the smaller Gram matrix
  const tall = m >= n;
  let x = tf.tidy(() => {
    const t = tall ? a : (tf.transpose(a) as tf.Tensor2D);
    const norm = tf.norm(t);
    return tf.div(t, tf.maximum(norm, 1e-30)) as tf.Tensor2D;
  });
  for (let i = 0; i < maxIter; i++) {
    const next = tf.tidy(() => tf.sub(tf.mul(x, 1.5), tf.mul(tf.matMul(x, tf.matMul(x, x, true, false)), 0.5)) as tf.Tensor2D);
    const moved = i % 4 === 3 ? tf.tidy(() => tf.max(tf.abs(tf.sub(next, x))).dataSync()[0]) : Infinity;
    x.dispose();
    x = next;
    if (moved < tol) break;
  }
  if (tall) return x;
  const out = tf.transpose(x) as tf.Tensor2D;
  x.dispose();
  return out;
}

/** ‖A‖_* = trace(Pᵀ·A) with P = U·Vᵀ, and its gradient P (a scalar op on the tape). */
export const nuclearNorm: (a: tf.Tensor2D) => tf.Scalar = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as tf.Tensor2D;
  const save = args[1] as tf.GradSaveFunc;
  const p = polarFactor(a);
  save([p]);
  return {
    value: tf.sum(tf.mul(p, a)) as tf.Scalar,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.mul(saved[0], dy as tf.Tensor),
  };
}) as unknown as (a: tf.Tensor2D) => tf.Scalar;
