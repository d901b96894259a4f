// Folding modules at convolution sites into the convolution's kernel: a kernel update (LoRA's
// B·A, FLoRA's Tucker product) is added to the weight in its own layout, a scaling of the
// output channels multiplies the filter's output channels (and the bias), a bias adds to the
// convolution's bias. Anything else is refused with its reason.
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d } from '../nn/conv.js';
import type { Module } from '../nn/module.js';
import type { WeightFold } from '../methods/types.js';

/** Why the fold cannot apply to this convolution, or null when it can. */
export function convFoldProblem(conv: Module | undefined, f: WeightFold): string | null {
  if (!(conv instanceof Conv2d)) return 'no convolution weight at this site';
  switch (f.kind) {
    case 'refuse': return f.why;
    case 'filter-delta': return null;
    case 'scale': return conv.depthwise && conv.outChannels !== conv.inChannels ? 'a depthwise multiplier > 1 is not supported here' : null;
    case 'bias': return conv.bias ? null : 'this convolution has no bias';
    default: return 'it is not a kernel update';
  }
}

/** Applies the fold (checked with convFoldProblem first). */
export function foldIntoConv(conv: Conv2d, f: WeightFold): void {
  if (f.kind === 'filter-delta') {
    const delta = f.filter();
    conv.weight.set(tf.tidy(() => tf.add(conv.weight.value, conv.fromFilter(delta))));
    delta.dispose();
  } else if (f.kind === 'scale') {
    const v = f.vector();
    // the filter's last axis is the output channel ([kh, kw, in, out], depthwise [kh, kw, C, 1] with out = C)
    conv.weight.set(tf.tidy(() => {
      const filter = conv.toFilter(conv.weight.value);
      const scaled = conv.depthwise ? tf.mul(filter, tf.reshape(v, [1, 1, -1, 1])) : tf.mul(filter, tf.reshape(v, [1, 1, 1, -1]));
      return conv.fromFilter(scaled as tf.Tensor4D);
    }));
    if (conv.bias) conv.bias.set(tf.tidy(() => tf.mul(conv.bias!.value, tf.reshape(v, [-1]))));
    v.dispose();
  } else if (f.kind === 'bias') {
    const v = f.vector();
    conv.bias!.set(tf.tidy(() => tf.add(conv.bias!.value, tf.reshape(v, [-1]))));
    v.dispose();
  }
}
