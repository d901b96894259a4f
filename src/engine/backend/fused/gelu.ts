// GELU as one differentiable op. On a backend with the PeftGelu kernels (native) the forward
// and the backward are one pass each; elsewhere it is the composite of tfjs ops (the same
// maths), so results agree across backends.
import * as tf from '@tensorflow/tfjs-core';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) from tfjs ops (x·x·x, not pow: pow is slow on wasm). */
function compositeTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** 0.5·x·(1 + erf(x/√2)) from tfjs ops. */
function compositeErf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

type Approximate = 'tanh' | 'none';

const fused = new Map<Approximate, (x: tf.Tensor) => tf.Tensor>();

function fusedFor(approximate: Approximate): (x: tf.Tensor) => tf.Tensor {
  let f = fused.get(approximate);
  if (!f) {
    f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      const value = tf.engine().runKernel('PeftGelu', { x }, { approximate }) as tf.Tensor;
      save([x]);
      return {
        value,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
          tf.engine().runKernel('PeftGeluGrad', { x: saved[0], dy: dy as tf.Tensor }, { approximate }) as tf.Tensor,
      };
    }) as (x: tf.Tensor) => tf.Tensor;
    fused.set(approximate, f);
  }
  return f;
}

/**
 * GELU of a float32 tensor: `approximate: 'tanh'` (gelu_new, gelu_pytorch_tanh) or 'none'
 * (exact, with erf). Differentiable.
 */
export function gelu(x: tf.Tensor, approximate: Approximate = 'none'): tf.Tensor {
  if (x.dtype === 'float32' && tf.getKernel('PeftGelu', tf.getBackend()) != null) return fusedFor(approximate)(x);
  return approximate === 'tanh' ? compositeTanh(x) : compositeErf(x);
}
