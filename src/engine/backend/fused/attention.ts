// Scaled-dot-product attention as one differentiable op, for the case a training forward pass
// has: q, k, v straight from their projections ([B, T, heads·d]), optional rotary tables, grouped-
// query heads, an additive mask, softmax, the value product; the output merged back to
// [B, T, heads·d]. On native (PeftAttention) one kernel forward and one backward giving dq, dk,
// dv; elsewhere the composite of tfjs ops (split heads, rotate, matMul, mask, softmax, matMul,
// merge), the same maths as nn/attention.ts.
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftAttention';
const GRAD = 'PeftAttentionGrad';

export interface FusedAttentionOptions {
  heads: number;
  kvHeads: number;
  scale: number;
  /** Rotary tables [T, d] for the positions of q and k (self-attention over the same T). */
  rotary?: { cos: tf.Tensor; sin: tf.Tensor } | null;
}

/** [B, T, H·d] → [B, H, T, d] */
function split(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [B, T, D] = x.shape;
  return tf.transpose(tf.reshape(x, [B, T, heads, D! / heads]), [0, 2, 1, 3]) as tf.Tensor4D;
}

function rotate(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
  return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin)) as tf.Tensor4D;
}

/** The attention from tfjs ops. */
export function attentionComposite(q3: tf.Tensor, k3: tf.Tensor, v3: tf.Tensor, mask: tf.Tensor | null, o: FusedAttentionOptions): tf.Tensor3D {
  const [B, T] = q3.shape as number[];
  const S = k3.shape[1]!;
  let q = split(q3, o.heads);
  let k = split(k3, o.kvHeads);
  const v = split(v3, o.kvHeads);
  if (o.rotary) {
    q = rotate(q, o.rotary.cos, o.rotary.sin);
    k = rotate(k, o.rotary.cos, o.rotary.sin);
  }
  const rep = o.heads / o.kvHeads;
  const d = q.shape[3];
  const qg = rep === 1 ? q : tf.reshape(q, [B, o.kvHeads, rep * T, d]);
  let scores = tf.matMul(qg, k, false, true);
  if (rep !== 1) scores = tf.reshape(scores, [B, o.heads, T, S]);
  if (o.scale !== 1) scores = tf.mul(scores, o.scale);
  if (mask) scores = tf.add(scores, mask);
  const probs = tf.softmax(scores);
  const pg = rep === 1 ? probs : tf.reshape(probs, [B, o.kvHeads, rep * T, S]);
  const ctx = tf.matMul(pg, v);
  const heads = (rep === 1 ? ctx : tf.reshape(ctx, [B, o.heads, T, d])) as tf.Tensor4D;
  return tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [B, T, o.heads * d]) as tf.Tensor3D;
}

/** Whether `attention` runs as one kernel here (else it is the composite). */
export function fusedAttentionAvailable(): boolean {
  return hasKernel(KERNEL);
}

/**
 * Attention of q [B, T, H·d] over k, v [B, S, Hkv·d] with an additive mask [1|B, 1, 1|T, S]
 * (or none), rotary tables when given (then S = T), scores scaled by `scale`. → [B, T, H·d].
 * Differentiable in q, k and v.
 */
export function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor | null, o: FusedAttentionOptions): tf.Tensor3D {
  if (!fusedAttentionAvailable() || [q, k, v].some((t) => t.dtype !== 'float32' || t.rank !== 3) || (mask && mask.rank !== 4)) {
    return attentionComposite(q, k, v, mask, o);
  }
  const attrs = { heads: o.heads, kvHeads: o.kvHeads, scale: o.scale };
  const extra: tf.NamedTensorMap = {};
  if (mask) extra.mask = mask;
  if (o.rotary) {
    extra.cos = o.rotary.cos;
    extra.sin = o.rotary.sin;
  }
  const names = Object.keys(extra);
  const f = tf.customGrad((...args: unknown[]) => {
    const [q0, k0, v0] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [out, stats] = tf.engine().runKernel(KERNEL, { q: q0, k: k0, v: v0, ...extra }, attrs) as tf.Tensor[];
    save([q0, k0, v0, stats, ...names.map((n) => extra[n]!)]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, sl, ...rest] = saved;
        const kept: tf.NamedTensorMap = {};
        names.forEach((n, i) => (kept[n] = rest[i]!));
        return tf.engine().runKernel(GRAD, { q: sq, k: sk, v: sv, stats: sl, dout: dy as tf.Tensor, ...kept }, attrs) as tf.Tensor[];
      },
    };
  });
  return f(q, k, v) as tf.Tensor3D;
}
