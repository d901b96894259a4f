// scaling: h ⊙ l, l initialised to ones ((IA)³, Liu et al. 2022). At a linear site it scales the
// projection's output, its bias included (AdapterHub's (IA)³: attn.key, attn.value and the FFN's
// first linear, ffn.up_proj); at ffn.intermediate the FFN's activation, i.e. the input of its
// second projection (Python peft's "feedforward" IA³); at attn.heads the concatenated head outputs.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule } from './compose.js';
import type { BuildContext, BuiltModule, FunctionBuilder } from './types.js';

export class Scaling extends SiteModule {
  readonly vector: Param;
  constructor(readonly dim: number) {
    super();
    this.vector = this.param('ia3_l', [dim], ['adapter']);
  }

  delta(u: tf.Tensor): tf.Tensor {
    return tf.mul(u, tf.sub(this.vector.value, 1));
  }

  override transform(_x: tf.Tensor, h: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    return tf.mul(h, this.vector.value);
  }
}

export const scalingBuilder: FunctionBuilder = {
  kind: 'scaling',
  build(c: BuildContext): BuiltModule {
    const attachments = new Map();
    for (const site of c.sites) {
      const m = c.store.add(`${site.path}.${c.plan.name}`, new Scaling(site.outDim));
      c.store.nameTree();
      c.init(m.vector, c.plan.options.init === 'random' ? { kind: 'normal', std: 0.02, mean: 1 } : { kind: 'ones' });
      attachments.set(site.path, m);
    }
    return { attachments };
  },
};
