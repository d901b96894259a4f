// The gradient that reaches a tensor, captured on its way back: IncreLoRA scores a module by
// |ΔW| ⊙ |∂L/∂ΔW| (their backward hook on the update), and ΔW is no parameter whose gradient the
// optimizer sees. `tap(t, sink)` is t in the forward pass; in the backward pass it hands the
// incoming gradient to `sink` (a copy the sink owns) and passes it on unchanged.
import * as tf from '@tensorflow/tfjs-core';

export function tap<T extends tf.Tensor>(t: T, sink: (grad: tf.Tensor, input: tf.Tensor) => void): T {
  // the input is saved for the backward pass: an intermediate of the forward may be freed by then
  // (a backend's clone need not share its data), so the sink gets the saved copy, not a closure's
  const f = tf.customGrad((...args) => {
    const x = args[0] as tf.Tensor;
    const save = args[args.length - 1] as unknown as (ts: tf.Tensor[]) => void;
    save([x]);
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
