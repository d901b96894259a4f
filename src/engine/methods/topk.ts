// Top-k selection for routers and admixtures (MoLA's experts, VB-LoRA's bank vectors): which k
// entries of the last axis are largest, as a one-hot mask [..., k, n] that carries no gradient
// (the choice is a constant of the step; gradients reach the logits through the chosen values).
import * as tf from '@tensorflow/tfjs-core';

const choose = (k: number) => tf.customGrad((...args) => {
  const logits = args[0] as tf.Tensor;
  const n = logits.shape[logits.shape.length - 1];
  const { indices } = tf.topk(logits, k);
  const mask = tf.reshape(tf.cast(tf.oneHot(tf.reshape(indices, [-1]), n), 'float32'), [...indices.shape, n]);
  return { value: mask, gradFunc: () => tf.zerosLike(logits) };
});

/** One-hot [..., k, n] of the k largest entries of `logits` [..., n] (largest first). */
export function topkMask(logits: tf.Tensor, k: number): tf.Tensor {
  return choose(k)(logits);
}

/** The chosen logits [..., k] (differentiable) for a mask from topkMask. */
export function chosen(logits: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(tf.expandDims(logits, -2), mask), -1);
}
