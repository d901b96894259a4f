// The gradient that reaches a tensor, captured on its way back: IncreLoRA scores a module by
// |ΔW| ⊙ |∂L/∂ΔW| (their backward hook on the update), and ΔW is no parameter whose gradient the
// optimizer sees. `tap(t, sink)` is t in the forward pass; in the backward pass it hands the
// incoming gradient to `sink` (a copy the sink owns) and passes it on unchanged.
import * as tf from '@tensorflow/tfjs-core';

export function tap<T extends tf.Tensor>(t: T, sink: (grad: tf.Tensor) => void): T {
  const f = tf.customGrad((...args) => {
    const x = args[0] as tf.Tensor;
    return {
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0] : dy;
        sink(tf.keep(tf.clone(g)));
        return g;
      },
    };
  });
  return f(t) as T;
}

/** x with no gradient flowing back through it (torch's .detach()). */
export const detach = tf.customGrad((...args) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(Array.isArray(dy) ? dy[0] : dy) }));
