// Convolution → batch norm → activation, the unit every convolutional family is made of
// (transformers' ResNetConvLayer, a Keras Conv2D + BatchNormalization + ReLU). The convolution
// is a unified-view site: whatever is attached at `siteKey` modifies its output.
import type * as tf from '@tensorflow/tfjs-core';
import { Container } from './module.js';
import type { Conv2d } from './conv.js';
import type { BatchNorm } from './batch-norm.js';
import type { Activation } from './activations.js';
import type { ForwardContext } from './context.js';

export class ConvNorm extends Container {
  readonly conv: Conv2d;
  readonly norm: BatchNorm;

  constructor(
    conv: Conv2d,
    norm: BatchNorm,
    readonly act: Activation | null,
    /** The site key of the convolution (its module path). */
    readonly siteKey: string,
    names: { conv: string; norm: string } = { conv: 'convolution', norm: 'normalization' },
  ) {
    super();
    this.conv = this.add(names.conv, conv);
    this.norm = this.add(names.norm, norm);
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const h = this.norm.forward(ctx.site(this.siteKey, x, (u) => this.conv.forward(u)), ctx);
    return this.act ? this.act(h) : h;
  }
}
