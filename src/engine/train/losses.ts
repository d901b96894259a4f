// Losses as transformers computes them: cross-entropy averaged over labels that are not -100
// (causal LM: logits at t predict the label at t + 1), optional label smoothing, MSE for regression.
import * as tf from '@tensorflow/tfjs-core';
import { rowNll } from '../backend/index.js';

export const IGNORE_INDEX = -100;

/** Mean cross-entropy of logits [N, C] against labels [N] (int; IGNORE_INDEX skipped). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const valid = tf.cast(tf.notEqual(labels, IGNORE_INDEX), 'float32');
    let nll: tf.Tensor = rowNll(logits, labels);
    if (labelSmoothing > 0) {
      const smooth = tf.neg(tf.mean(tf.logSoftmax(logits), -1));
      nll = tf.add(tf.mul(nll, 1 - labelSmoothing), tf.mul(smooth, labelSmoothing));
    }
    const count = tf.maximum(tf.sum(valid), 1);
    return tf.div(tf.sum(tf.mul(nll, valid)), count) as tf.Scalar;
  });
}

/**
 * Labels for the causal-LM shift: position t predicts the label at t + 1, the last position
 * predicts nothing (-100). Shifting the (integer, gradient-free) labels instead of slicing the
 * logits keeps a large slice and its gradient out of every training step.
 */
export function shiftLabelsLeft(labels: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, T] = labels.shape;
    const rest = tf.slice(labels, [0, 1], [B, T - 1]);
    return tf.concat([rest, tf.fill([B, 1], IGNORE_INDEX, labels.dtype)], 1) as tf.Tensor2D;
  });
}

/** Sum of token NLLs and the token count (for perplexity over many batches). */
export function causalLmNll(logits: tf.Tensor3D, labels: tf.Tensor2D): { sum: tf.Scalar; count: tf.Scalar } {
  return tf.tidy(() => {
    const V = logits.shape[2];
    const l = tf.reshape(logits, [-1, V]) as tf.Tensor2D;
    const y = tf.reshape(shiftLabelsLeft(labels), [-1]) as tf.Tensor1D;
    const valid = tf.cast(tf.notEqual(y, IGNORE_INDEX), 'float32');
    const nll = rowNll(l, y);
    return { sum: tf.sum(tf.mul(nll, valid)) as tf.Scalar, count: tf.sum(valid) as tf.Scalar };
  });
}

/** transformers' causal-LM loss: shifted cross-entropy, mean over labels that are not -100. */
export function causalLmLoss(logits: tf.Tensor3D, labels: tf.Tensor2D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[2];
    return crossEntropy(tf.reshape(logits, [-1, V]) as tf.Tensor2D, tf.reshape(shiftLabelsLeft(labels), [-1]) as tf.Tensor1D, labelSmoothing);
  });
}

/** transformers' seq2seq loss: cross-entropy of decoder logits [B, T, V] against labels [B, T] (not shifted). */
export function seq2seqLoss(logits: tf.Tensor3D, labels: tf.Tensor2D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[2];
    return crossEntropy(tf.reshape(logits, [-1, V]) as tf.Tensor2D, tf.reshape(labels, [-1]) as tf.Tensor1D, labelSmoothing);
  });
}

export function mseLoss(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(tf.reshape(pred, [-1]), tf.reshape(target, [-1])))) as tf.Scalar);
}
