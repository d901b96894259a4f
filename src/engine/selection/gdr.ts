// Regularized Mask Tuning's gradient-dropout regularity (Zheng et al. 2023; masktuning.py:338-387
// of the authors' code, test/fixtures/reference/r_amt/README.md). For each score tensor, a is the
// gradient of the task loss (with the score regulariser), b that of a distillation loss towards
// the pretrained model (the teacher):
//   P = (sgn(a)·(a + b) / (|a| + |b| + 1e-8) + 1) / 2,   g = ((1 − λ) + λ·[P > U])·a,   U ~ U[0, 1)
// b is never added: it only decides how likely each component of a is kept (P = 1 when they
// agree, |a|/(|a| + |b|) when they disagree).
import * as tf from '@tensorflow/tfjs-core';

/** The keep probabilities P and the gradient that reaches the optimizer, given the uniform draws U. */
export function gradientDropout(a: tf.Tensor, b: tf.Tensor, u: tf.Tensor, lambda: number): { p: tf.Tensor; grad: tf.Tensor } {
  return tf.tidy(() => {
    const p = tf.div(tf.add(tf.div(tf.mul(tf.sign(a), tf.add(a, b)), tf.add(tf.add(tf.abs(a), tf.abs(b)), 1e-8)), 1), 2);
    const keep = tf.cast(tf.greater(p, u), 'float32');
    const grad = tf.mul(tf.add(1 - lambda, tf.mul(keep, lambda)), a);
    return { p, grad };
  });
}

/**
 * The authors' KLLoss: t = α·teacher + (1 − α)·logits; mean over rows of
 * Σ_c −softmax(t/T)_c · log_softmax(logits/T)_c · T². Rows are every leading position (for token
 * logits, every token).
 */
export function distillLoss(logits: tf.Tensor, teacher: tf.Tensor, temperature: number, alpha = 1): tf.Scalar {
  return tf.tidy(() => {
    const C = logits.shape[logits.shape.length - 1]!;
    const s = tf.reshape(logits, [-1, C]);
    const t = tf.reshape(alpha === 1 ? teacher : tf.add(tf.mul(teacher, alpha), tf.mul(logits, 1 - alpha)), [-1, C]);
    const target = tf.softmax(tf.div(t, temperature));
    const logp = tf.logSoftmax(tf.div(s, temperature));
    return tf.mul(tf.mean(tf.sum(tf.neg(tf.mul(target, logp)), -1)), temperature * temperature) as tf.Scalar;
  });
}
