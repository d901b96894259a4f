// bias: h + b, b initialised to zero. Training an added bias is training the layer's bias
// (BitFit, Ben Zaken et al. 2022) where it has one, and adds one where it has none (LLaMA).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule } from './compose.js';
import type { BuildContext, BuiltModule, FunctionBuilder } from './types.js';

export class AddedBias extends SiteModule {
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
}

export const biasBuilder: FunctionBuilder = {
  kind: 'bias',
  build(c: BuildContext): BuiltModule {
    const attachments = new Map();
    for (const site of c.sites) {
      const m = c.store.add(`${site.path}.${c.plan.name}`, new AddedBias(site.outDim));
      c.store.nameTree();
      c.init(m.bias, { kind: 'zeros' });
      attachments.set(site.path, m);
    }
    return { attachments };
  },
};
