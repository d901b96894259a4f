// The gradient that reaches a tensor, captured on its way back: IncreLoRA scores a module by
// |ΔW| ⊙ |∂L/∂ΔW| (their backward hook on the update), and ΔW is no parameter whose gradient the
// optimizer sees. `tap(t, sink)` is t in the forward pass; in the backward pass it hands the
// incoming gradient (a copy the sink owns) and t's values to `sink`, and passes the gradient on
// unchanged. t's values are saved with the op: a tensor of the forward pass captured in a closure
// may be freed before this op's backward runs (backend/lean-backprop.ts frees as it goes).
import * as tf from '@tensorflow/tfjs-core';

export function tap<T extends tf.Tensor>(t: T, sink: (grad: tf.Tensor, value: tf.Tensor) => void): T {
  const f = tf.customGrad((...args) => {
    const x = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([x]);
    return {
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0] : dy;
        sink(tf.keep(tf.clone(g)), saved[0]!);
        return g;
      },
    };
  });
  return f(t) as T;
}

/** x with no gradient flowing back through it (torch's .detach()). */
export const detach = tf.customGrad((...args) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(Array.isArray(dy) ? dy[0] : dy) }));
