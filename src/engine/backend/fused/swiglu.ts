// SwiGLU's product silu(gate)·up (LLaMA's MLP) as one differentiable op: one pass forward and
// one per input gradient on native (PeftSwiGlu), the composite of tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftSwiGlu';
const GRAD = 'PeftSwiGluGrad';

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ['gate', 'up'],
  gradFunc: (dy, saved) => {
    const [gate, up] = saved;
    const grad = (which: 'gate' | 'up') => () => tf.engine().runKernel(GRAD, { gate, up, dy: dy as tf.Tensor }, { which }) as tf.Tensor;
    return { gate: grad('gate'), up: grad('up') };
  },
});

/** silu(gate)·up from tfjs ops: (gate·σ(gate))·up. */
export function swigluComposite(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
}

/** silu(gate)·up for gate and up of one shape. Differentiable in both. */
export function swiglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  const same = gate.rank === up.rank && gate.shape.every((d, i) => d === up.shape[i]);
  if (!same || gate.dtype !== 'float32' || up.dtype !== 'float32' || !hasKernel(KERNEL)) return swigluComposite(gate, up);
  return tf.engine().runKernel(KERNEL, { gate, up }, {}) as tf.Tensor;
}
