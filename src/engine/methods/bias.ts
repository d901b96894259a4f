// bias: h + b, b initialised to zero. Training an added bias is training the layer's bias
// (BitFit, Ben Zaken et al. 2022) where it has one, and adds one where it has none (LLaMA).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule, WeightFold } from './types.js';

export class AddedBias extends SiteModule {
  protected readonly nonlinear = null;
  readonly bias: Param;
  constructor(readonly dim: number) {
    super();
    this.bias = this.param('bias', [dim], ['adapter']);
  }

  delta(u: tf.Tensor): tf.Tensor {
    return tf.add(tf.zerosLike(u), this.bias.value);
  }

  override transform(_x: tf.Tensor, h: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    return tf.add(h, this.bias.value);
  }

  override fold(): WeightFold {
    return { kind: 'bias', vector: () => this.bias.value };
  }
}

export const biasModule: FunctionModule<'bias'> = {
  kind: 'bias',
  build: (c) => buildPerSite(c, (site) => new AddedBias(site.outDim), (m) => c.init(m.bias, { kind: 'zeros' })),
};
