// A linear layer with a LoRA term as one differentiable op: y = x·W(ᵀ) + bias + s·(x·Aᵀ)·Bᵀ.
// On native (PeftLoraLinear) a few sgemm forward and per gradient the tape asks for — x, A, B
// (W and bias, when they train too, through tfjs ops) — instead of ~9 kernels forward and ~10
// backward; elsewhere the composite, exactly as a Linear with a scaled low-rank module computes it.
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel } from './util.js';

const KERNEL = 'PeftLoraLinear';
const GRAD = 'PeftLoraGrad';

interface Attrs {
  scale: number;
  transW: boolean;
}

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ['x', 'w', 'a', 'b'],
  gradFunc: (dyIn, saved, attrs) => {
    const [x, w, a, b] = saved;
    const dy = dyIn as tf.Tensor;
    const { scale, transW } = attrs as unknown as Attrs;
    const grad = (which: 'x' | 'a' | 'b') => () => tf.engine().runKernel(GRAD, { x, w, a, b, dy }, { scale, transW, which }) as tf.Tensor;
    const rows = () => ({ x2: tf.reshape(x, [-1, x.shape[x.rank - 1]]), dy2: tf.reshape(dy, [-1, dy.shape[dy.rank - 1]]) });
    return {
      x: grad('x'),
      a: grad('a'),
      b: grad('b'),
      w: () => {
        const { x2, dy2 } = rows();
        return transW ? tf.matMul(dy2, x2, true, false) : tf.matMul(x2, dy2, true, false);
      },
      bias: () => tf.sum(rows().dy2, 0),
    };
  },
});

export type WeightLayout = 'out_in' | 'in_out';

/** Whether `loraLinear` runs as one kernel here (else it is the composite). */
export function loraLinearAvailable(): boolean {
  return hasKernel(KERNEL);
}

/** The composite: a Linear's product (+ bias) plus s·(x·Aᵀ)·Bᵀ (the add alone when s = 1). */
export function loraLinearComposite(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, a: tf.Tensor, b: tf.Tensor, scale: number, layout: WeightLayout): tf.Tensor {
  const inF = a.shape[1]!;
  const outF = b.shape[0]!;
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, inF]) as tf.Tensor2D;
  let h: tf.Tensor = tf.matMul(x2, w as tf.Tensor2D, false, layout === 'out_in');
  if (bias) h = tf.add(h, bias);
  h = tf.reshape(h, [...lead, outF]);
  const low = tf.matMul(x2, a as tf.Tensor2D, false, true);
  const d = tf.reshape(tf.matMul(low, b as tf.Tensor2D, false, true), [...lead, outF]);
  return tf.add(h, scale === 1 ? d : tf.mul(d, scale));
}

/**
 * x [..., in] through a linear layer with weight w ([out, in] for 'out_in', torch's layout; [in, out]
 * for 'in_out') and optional bias [out], plus the LoRA term with A [r, in], B [out, r] and scale s.
 * Differentiable in every tensor.
 */
export function loraLinear(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, a: tf.Tensor, b: tf.Tensor, scale: number, layout: WeightLayout = 'out_in'): tf.Tensor {
  const ok = [x, w, a, b, ...(bias ? [bias] : [])].every((t) => t.dtype === 'float32') && x.rank >= 1 && hasKernel(KERNEL);
  if (!ok) return loraLinearComposite(x, w, bias, a, b, scale, layout);
  const inputs: tf.NamedTensorMap = bias ? { x, w, a, b, bias } : { x, w, a, b };
  return tf.engine().runKernel(KERNEL, inputs, { scale, transW: layout === 'out_in' } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
