// RMSNorm over the last axis (LLaMA, T5) as one differentiable op: on a backend with the
// PeftRmsNorm kernels (native) one pass forward and one per gradient the tape asks for (x, w);
// elsewhere the composite of tfjs ops, as transformers computes it.
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftRmsNorm';
const GRAD = 'PeftRmsNormGrad';

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ['x', 'w'],
  gradFunc: (dy, saved, attrs) => {
    const [x, w] = saved;
    const { eps } = attrs as unknown as { eps: number };
    const grad = (which: 'x' | 'w') => () => tf.engine().runKernel(GRAD, { x, w, dy: dy as tf.Tensor }, { eps, which }) as tf.Tensor;
    return { x: grad('x'), w: grad('w') };
  },
});

/** x / sqrt(mean(x²) + eps) · w from tfjs ops (transformers' LlamaRMSNorm in float32). */
export function rmsNormComposite(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const ms = tf.mean(tf.mul(x, x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** RMSNorm of x [..., D] with weight w [D]. Differentiable in x and w. */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  if (x.dtype !== 'float32' || x.rank < 1 || w.rank !== 1 || !hasKernel(KERNEL)) return rmsNormComposite(x, w, eps);
  return tf.engine().runKernel(KERNEL, { x, w }, { eps }) as tf.Tensor;
}
