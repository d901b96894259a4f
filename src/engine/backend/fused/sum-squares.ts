// Σx² of each tensor of a list → [n] (the global gradient norm for clipping): one kernel on
// native (PeftSumSquares) instead of two per tensor, tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftSumSquares';

export function sumSquares(xs: tf.Tensor[]): tf.Tensor1D {
  if (xs.length > 0 && xs.every((x) => x.dtype === 'float32') && hasKernel(KERNEL)) {
    return tf.engine().runKernel(KERNEL, xs as unknown as tf.NamedTensorMap, {}) as tf.Tensor1D;
  }
  return tf.tidy(() => tf.stack(xs.map((g) => tf.sum(tf.square(g)))) as tf.Tensor1D);
}
