// LayerNorm over the last axis (biased variance, as torch) as one differentiable op. On a
// backend with the PeftLayerNorm kernels (native) the forward is one pass per row and the
// backward one pass giving dx, dgamma and dbeta; elsewhere it is the composite of tfjs ops.
import * as tf from '@tensorflow/tfjs-core';

function composite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor | null, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.mul(centered, centered), -1, true);
  const y = tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), gamma);
  return beta ? tf.add(y, beta) : y;
}

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
const fused = new Map<string, Fn>();

/** The customGrad op for one epsilon, with or without beta. */
function fusedFor(eps: number, withBeta: boolean): Fn {
  const key = `${eps}:${withBeta}`;
  let f = fused.get(key);
  if (!f) {
    f = tf.customGrad((...args: unknown[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const [x, gamma, beta] = args.slice(0, -1) as tf.Tensor[];
      const inputs: tf.NamedTensorMap = withBeta ? { x, gamma, beta } : { x, gamma };
      const [y, mean, rstd] = tf.engine().runKernel('PeftLayerNorm', inputs, { epsilon: eps }) as tf.Tensor[];
      save([x, gamma, mean, rstd]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sg, sm, sr] = saved;
          const [dx, dgamma, dbeta] = tf.engine().runKernel(
            'PeftLayerNormGrad', { x: sx, gamma: sg, dy: dy as tf.Tensor, mean: sm, rstd: sr }, {},
          ) as tf.Tensor[];
          if (withBeta) return [dx, dgamma, dbeta];
          dbeta.dispose();
          return [dx, dgamma];
        },
      };
    }) as Fn;
    fused.set(key, f);
  }
  return f;
}

/** y = (x − mean)/√(var + eps)·gamma (+ beta), over the last axis. Differentiable in x, gamma, beta. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor | null, eps: number): tf.Tensor {
  const ok =
    x.dtype === 'float32' && x.rank >= 1 && gamma.rank === 1 && (!beta || beta.rank === 1) &&
    tf.getKernel('PeftLayerNorm', tf.getBackend()) != null;
  if (!ok) return composite(x, gamma, beta, eps);
  return beta ? fusedFor(eps, true)(x, gamma, beta) : fusedFor(eps, false)(x, gamma);
}
