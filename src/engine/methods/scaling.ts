// scaling: h ⊙ l, l initialised to ones ((IA)³, Liu et al. 2022). At a linear site it scales the
// projection's output, its bias included (AdapterHub's (IA)³: attn.key, attn.value and the FFN's
// first linear, ffn.up_proj); at ffn.intermediate the FFN's activation, i.e. the input of its
// second projection (Python peft's "feedforward" IA³); at attn.heads the concatenated head outputs.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule, WeightFold } from './types.js';

export class Scaling extends SiteModule {
  protected readonly nonlinear = null;
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

  override fold(): WeightFold {
    return { kind: 'scale', vector: () => this.vector.value };
  }
}

export const scalingModule: FunctionModule<'scaling'> = {
  kind: 'scaling',
  build: (c) => buildPerSite(c, (site) => new Scaling(site.outDim),
    (m) => c.init(m.vector, c.plan.options.init === 'random' ? { kind: 'normal', std: 0.02, mean: 1 } : { kind: 'ones' })),
};
