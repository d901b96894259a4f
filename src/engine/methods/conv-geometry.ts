// A convolution site's geometry as tfjs ops take it, for modules that convolve like the site
// (a kernel update computes its Δh with the base convolution's stride, padding and dilation).
import * as tf from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../backbones/types.js';

export type TfPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

export function tfPadOf(g: ConvGeometry): TfPad {
  const p = g.padding;
  if (typeof p === 'string') return p;
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

/** x [B, H, W, in] convolved with a filter [kh, kw, in, out] as the site's convolution does (groups 1). */
export function convolveLike(g: ConvGeometry, x: tf.Tensor, filter: tf.Tensor4D): tf.Tensor4D {
  return tf.conv2d(x as tf.Tensor4D, filter, g.stride, tfPadOf(g), 'NHWC', g.dilation);
}

/** y [..., r] · Bᵀ with B [out, r] (a 1×1 convolution over channels-last maps). */
export function channelProduct(y: tf.Tensor, b: tf.Tensor2D): tf.Tensor {
  const lead = y.shape.slice(0, -1);
  const r = y.shape[y.shape.length - 1];
  return tf.reshape(tf.matMul(tf.reshape(y, [-1, r]) as tf.Tensor2D, b, false, true), [...lead, b.shape[0]]);
}
