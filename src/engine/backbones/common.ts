// Pieces every family's forward pass shares: prompt prepending at the embedding sites, pooling
// for sequence classification, the causal mask with what was prepended, and what a pass that
// continues a KV cache needs (the held key mask, positions).
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../nn/context.js';
import type { TokenPositions } from '../nn/attention.js';
import type { ForwardCache } from './types.js';

/**
 * Applies the modules at an embeddings site: prepended prompt vectors (the mask grows with
 * ones) and any transform of the embeddings. Returns the new sequence, mask and prompt length.
 * `prepend` false: a pass that continues a cache (its first pass prepended the prompt).
 */
export function embeddingSite(
  ctx: ForwardContext,
  key: string,
  embeds: tf.Tensor3D,
  mask: tf.Tensor2D,
  prepend = true,
): { embeds: tf.Tensor3D; mask: tf.Tensor2D; prepended: number } {
  const B = embeds.shape[0];
  const pre = prepend ? ctx.prepends(key, B) : [];
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

/** The key mask of self-attention: the cache's held positions, then this pass's [B, S]. */
export function selfKeyMask(cache: ForwardCache | undefined, mask: tf.Tensor2D): tf.Tensor2D {
  if (!cache?.keyMask) return mask;
  return tf.concat([tf.cast(cache.keyMask, 'float32'), tf.cast(mask, 'float32')], 1) as tf.Tensor2D;
}

/**
 * Per-row positions of this pass's T tokens (prompt vectors included) from the caller's position
 * ids [B, T − p]: the p prompt vectors prepended now take 0 … p − 1, the given ids shift by every
 * prompt vector (prepended now or held in the cache), and all by `offset` (prefix tuning's shift).
 * Null when no ids were given.
 */
export function tokenPositions(
  ids: tf.Tensor2D | undefined, prependedNow: number, cache: ForwardCache | undefined, offset: number,
): TokenPositions | null {
  if (!ids) return null;
  const shift = offset + prependedNow + (cache?.prepended ?? 0);
  const B = ids.shape[0];
  let all: tf.Tensor2D = tf.add(tf.cast(ids, 'int32'), tf.scalar(shift, 'int32'));
  if (prependedNow > 0) {
    const prompt = tf.tile(tf.expandDims(tf.range(offset, offset + prependedNow, 1, 'int32'), 0), [B, 1]);
    all = tf.concat([prompt, all], 1) as tf.Tensor2D;
  }
  let max = 0;
  for (const v of all.dataSync()) if (v > max) max = v;
  return { ids: all, limit: max + 1 };
}
