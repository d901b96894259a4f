// Each row's cross-entropy against its integer label as one differentiable op: one pass forward
// and one backward on native (PeftCrossEntropy), the composite of tfjs ops elsewhere
// (logSoftmax, oneHot, a product and a sum: ~10 kernels over [N, C] each way).
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftCrossEntropy';
const GRAD = 'PeftCrossEntropyGrad';

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy, saved) => {
    const [logits, labels] = saved;
    return {
      logits: () => tf.engine().runKernel(GRAD, { logits, labels, dy: dy as tf.Tensor }, {}) as tf.Tensor,
      // integer labels carry no gradient
      labels: () => tf.zeros(labels!.shape),
    };
  },
});

/** −log softmax(logits)[label] per row from tfjs ops; a label below 0 counts as class 0. */
export function rowNllComposite(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const target = tf.oneHot(tf.cast(tf.maximum(labels, 0), 'int32'), logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(target, logp), -1)) as tf.Tensor1D;
  });
}

/**
 * Each row's negative log-likelihood of its label: logits [N, C], labels [N] (integers; a label
 * below 0 counts as class 0, one at or above C gives 0) → [N]. Differentiable in the logits.
 */
export function rowNll(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (logits.dtype !== 'float32' || !hasKernel(KERNEL)) return rowNllComposite(logits, labels);
  return tf.tidy(() => {
    const y = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
    return tf.engine().runKernel(KERNEL, { logits, labels: y }, {}) as tf.Tensor1D;
  });
}
