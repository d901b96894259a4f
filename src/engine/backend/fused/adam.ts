// The Adam/AdamW update of one parameter: one kernel on native (PeftAdam, the same float32
// operations in the same order, so the same bits), the composite of tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftAdam';

export interface AdamStep {
  lr: number;
  /** 1 on the parameter's first update. */
  step: number;
  betas: [number, number];
  eps: number;
  /** Adam's L2 penalty (g ← g + l2·p); 0 for none. */
  l2: number;
  /** AdamW's decoupled decay factor (p ← p·decay); 1 for none. */
  decay: number;
}

/**
 * The bias-corrected Adam move in the order torch computes it:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
 * `buffers` is [m, v], or null on the first step (zeros). Call inside tf.tidy.
 */
export function adamComposite(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, s: AdamStep): { param: tf.Tensor; buffers: tf.Tensor[] } {
  const [beta1, beta2] = s.betas;
  const g = s.l2 === 0 ? grad : tf.add(grad, tf.mul(param, s.l2));
  const p = s.decay === 1 ? param : tf.mul(param, s.decay);
  const m0 = buffers?.[0] ?? tf.zerosLike(p);
  const v0 = buffers?.[1] ?? tf.zerosLike(p);
  const m = tf.add(tf.mul(m0, beta1), tf.mul(g, 1 - beta1));
  const v = tf.add(tf.mul(v0, beta2), tf.mul(tf.mul(g, g), 1 - beta2));
  const stepSize = s.lr / (1 - beta1 ** s.step);
  const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - beta2 ** s.step)), s.eps);
  return { param: tf.sub(p, tf.mul(tf.div(m, denom), stepSize)), buffers: [m, v] };
}

/** The new parameter and buffers [m, v] after one Adam/AdamW step (call inside tf.tidy). */
export function adamUpdate(param: tf.Tensor, grad: tf.Tensor, buffers: tf.Tensor[] | null, s: AdamStep): { param: tf.Tensor; buffers: tf.Tensor[] } {
  if (param.dtype !== 'float32' || grad.dtype !== 'float32' || !hasKernel(KERNEL)) return adamComposite(param, grad, buffers, s);
  const [beta1, beta2] = s.betas;
  // the scalars as tfjs ops would hold them (float32); the kernel rounds each product as they do
  const consts = [s.l2, s.decay, beta1, 1 - beta1, beta2, 1 - beta2, Math.sqrt(1 - beta2 ** s.step), s.eps, s.lr / (1 - beta1 ** s.step)];
  const inputs: tf.NamedTensorMap = buffers ? { p: param, g: grad, m: buffers[0]!, v: buffers[1]! } : { p: param, g: grad };
  const [p, m, v] = tf.engine().runKernel(KERNEL, inputs, { consts } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { param: p!, buffers: [m!, v!] };
}
