// Quantisation-aware training as the precision-redundancy paper's QLinear does it (binary_adapter/
// utils.py; test/fixtures/reference/binary_adapter/README.md): the latent float weight W trains,
// the forward sees W_eff = w_b·σ + μ with μ = mean(W), σ = std(W) (unbiased, whole tensor),
// w_n = (W − μ)/(σ + 1e-5) and w_b = q(w_n) + w_n − stop(w_n) — q the nearest level of the N(0,1)
// median codebook, passed straight through — so μ and σ stay in the gradient. After training,
// peft compress --method quantize packs W to exactly W_eff (same μ, σ, levels).
import * as tf from '@tensorflow/tfjs-core';
import { codebook, levelIndex } from '../adapters/compress/codebook.js';

/** x in the forward pass, no gradient in the backward (torch's .detach()). */
const stop = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as never) as (x: tf.Tensor) => tf.Tensor;

/** Each entry of w_n replaced by its codebook level: a constant, read from the values (no gradient path). */
function levelsOf(wn: tf.Tensor, bits: number): tf.Tensor {
  const cb = codebook(bits);
  const values = wn.dataSync();
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = cb.levels[levelIndex(cb, values[i])];
  return tf.tensor(out, wn.shape);
}

export function fakeQuantize(w: tf.Tensor, bits: number): tf.Tensor {
  return tf.tidy(() => {
    const n = w.size;
    const mu = tf.mean(w);
    const centred = tf.sub(w, mu);
    const sigma = tf.sqrt(tf.div(tf.sum(tf.square(centred)), Math.max(n - 1, 1)));
    const wn = tf.div(centred, tf.add(sigma, 1e-5));
    const q = levelsOf(wn, bits);
    const wb = tf.add(stop(tf.sub(q, wn)), wn);
    return tf.add(tf.mul(wb, sigma), mu);
  });
}
