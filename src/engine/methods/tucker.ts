// The Tucker product of N modes (FLoRA, Si et al. 2024): a core G of shape [r_0, …, r_{N−1}] and
// one factor matrix P_i [d_i, r_i] per mode give
//   T[a_0, …, a_{N−1}] = Σ_{p_0…p_{N−1}} G[p_0, …, p_{N−1}] · Π_i P_i[a_i, p_i],
// of shape [d_0, …, d_{N−1}]. It contracts mode 0 first, as the authors' code does
// (tensordot(G, P_0, [[0], [1]]), then each next mode), so any N works: 2 for a projection's
// weight, 4 for a convolution kernel. For a projection with modes [in, out] the result is ΔWᵀ
// [in, out]; for a kernel with modes [in, out, kh, kw], transposing the first two axes gives
// torch's [out, in, kh, kw]. Differentiable (tfjs ops only).
import * as tf from '@tensorflow/tfjs-core';

export function tuckerProduct(core: tf.Tensor, factors: readonly tf.Tensor2D[]): tf.Tensor {
  const ranks = core.shape;
  if (ranks.length !== factors.length) throw new Error(`tucker: a core of ${ranks.length} modes needs as many factors (got ${factors.length})`);
  factors.forEach((f, i) => {
    if (f.shape[1] !== ranks[i]) throw new Error(`tucker: factor ${i} is [${f.shape}], its second axis must be the core's rank ${ranks[i]}`);
  });
  return tf.tidy(() => {
    let t: tf.Tensor = core;
    factors.forEach((f) => {
      // t: [r_i, …rest] → [rest, r_i] · P_iᵀ [r_i, d_i] → [...rest, d_i] (mode i moves to the back)
      const [r, ...rest] = t.shape;
      const restSize = rest.reduce((a, b) => a * b, 1);
      const flat = tf.transpose(tf.reshape(t, [r, restSize])) as tf.Tensor2D;
      t = tf.reshape(tf.matMul(flat, f, false, true), [...rest, f.shape[0]]);
    });
    return t;
  });
}

/** Parameters of a Tucker update: the core plus each factor (FLoRA's trainable count). */
export function tuckerParams(ranks: readonly number[], dims: readonly number[]): number {
  return ranks.reduce((a, b) => a * b, 1) + dims.reduce((s, d, i) => s + d * ranks[i], 0);
}
