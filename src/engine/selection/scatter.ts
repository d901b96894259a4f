// Selected entries into a dense tensor: out[indices[j]] = values[j], zero elsewhere, with the
// gradient of the values gathered at the indices. tfjs's own route (unsortedSegmentSum) costs
// one pass over the values per output entry on the cpu backend; scatterND forward and a gather
// backward are linear on every backend.
import * as tf from '@tensorflow/tfjs-core';

/** A flat tensor of size n with `values` at `indices` (int32 [k]) and zeros elsewhere. */
export function scatterEntries(values: tf.Tensor, indices: tf.Tensor1D, n: number): tf.Tensor1D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // saved: the indices may be a tensor of the forward pass, gone by the time gradients run
    (args[1] as tf.GradSaveFunc)([indices]);
    return {
      value: tf.scatterND(tf.reshape(indices, [-1, 1]), args[0] as tf.Tensor, [n]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.gather(dy as tf.Tensor, saved[0]),
    };
  }) as unknown as (v: tf.Tensor) => tf.Tensor1D;
  return op(values);
}
