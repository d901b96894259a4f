// The head columns a batch ranges over, as an additive mask over all C columns (0 at the batch's
// classes, −1e9 elsewhere): softmaxes over the batch's classes alone, written over the whole head.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches.js';

export const MASKED = -1e9;

export function classMask(b: Batch, C: number): tf.Tensor1D {
  if (!b.classes) return tf.zeros([C]) as tf.Tensor1D;
  const m = new Float32Array(C).fill(MASKED);
  for (const c of b.classes) m[c] = 0;
  return tf.tensor1d(m);
}
