// Pieces every family's forward pass shares: prompt prepending at the embedding sites, pooling
// for sequence classification, and the causal mask with what was prepended.
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../nn/context.js';

/**
 * Applies the modules at an embeddings site: prepended prompt vectors (the mask grows with
 * ones) and any transform of the embeddings. Returns the new sequence, mask and prompt length.
 */
export function embeddingSite(
  ctx: ForwardContext,
  key: string,
  embeds: tf.Tensor3D,
  mask: tf.Tensor2D,
): { embeds: tf.Tensor3D; mask: tf.Tensor2D; prepended: number } {
  const B = embeds.shape[0];
  const pre = ctx.prepends(key, B);
  let e = embeds;
  let m = mask;
  let p = 0;
  if (pre.length > 0) {
    p = pre.reduce((n, t) => n + t.shape[1], 0);
    e = tf.concat([...pre, e], 1) as tf.Tensor3D;
    m = tf.concat([tf.ones([B, p]), tf.cast(m, 'float32')], 1) as tf.Tensor2D;
  }
  e = ctx.site(key, e, (x) => x) as tf.Tensor3D;
  return { embeds: e, mask: m, prepended: p };
}

/** Position of each row's last real token, from the mask (right or left padding). [B] int32 */
export function lastTokenIndex(mask: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const T = mask.shape[1];
    const weighted = tf.mul(tf.cast(mask, 'float32'), tf.add(tf.range(0, T, 1, 'float32'), 1));
    return tf.argMax(weighted, 1) as tf.Tensor1D;
  });
}

/** Picks one position per row: x [B, T, D], idx [B] → [B, D] (a one-hot product: differentiable, no gather). */
export function pickPositions(x: tf.Tensor3D, idx: tf.Tensor1D): tf.Tensor2D {
  const T = x.shape[1];
  const oh = tf.expandDims(tf.oneHot(tf.cast(idx, 'int32'), T), 2);
  return tf.sum(tf.mul(x, oh), 1) as tf.Tensor2D;
}

export function pool(x: tf.Tensor3D, mask: tf.Tensor2D, how: 'last' | 'first' | 'mean'): tf.Tensor2D {
  if (how === 'first') return tf.squeeze(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
  if (how === 'last') return pickPositions(x, lastTokenIndex(mask));
  const m = tf.expandDims(tf.cast(mask, 'float32'), 2);
  return tf.div(tf.sum(tf.mul(x, m), 1), tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
}

/** All-ones mask [B, T] when the caller gave none. */
export function defaultMask(ids: tf.Tensor2D, mask?: tf.Tensor2D): tf.Tensor2D {
  return mask ? (tf.cast(mask, 'float32') as tf.Tensor2D) : tf.ones(ids.shape);
}
