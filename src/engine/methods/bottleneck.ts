// bottleneck: Δh = f(u·W_downᵀ + b_down)·W_upᵀ + b_up, optionally with a LayerNorm on u (before)
// or on Δh (after). Houlsby/Pfeiffer adapters (sequential), parallel adapters (parallel), scaled
// PA (composition scaled). Init `bert`: N(0, 0.02) weights, zero biases; `lora`: W_down
// Kaiming-uniform, W_up and biases zero (He et al. App. A.3).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import { LayerNorm } from '../nn/norm.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule } from './compose.js';
import type { BuildContext, BuiltModule, FunctionBuilder } from './types.js';
import { buildMultiHead } from './multihead.js';

export class Bottleneck extends SiteModule {
  readonly downW: Param;
  readonly downB: Param;
  readonly upW: Param;
  readonly upB: Param;
  readonly ln: LayerNorm | null;
  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly size: number,
    readonly act: Activation,
    readonly lnWhere: 'none' | 'before' | 'after',
  ) {
    super();
    this.downW = this.param('adapter_down.weight', [size, inDim], ['adapter']);
    this.downB = this.param('adapter_down.bias', [size], ['adapter']);
    this.upW = this.param('adapter_up.weight', [outDim, size], ['adapter']);
    this.upB = this.param('adapter_up.bias', [outDim], ['adapter']);
    this.ln = lnWhere === 'none' ? null : this.module('adapter_norm', new LayerNorm(lnWhere === 'before' ? inDim : outDim, 1e-5));
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    let x = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    if (this.ln && this.lnWhere === 'before') x = this.ln.forward(x) as tf.Tensor2D;
    const mid = this.act(tf.add(tf.matMul(x, this.downW.value as tf.Tensor2D, false, true), this.downB.value));
    let y = tf.add(tf.matMul(mid as tf.Tensor2D, this.upW.value as tf.Tensor2D, false, true), this.upB.value);
    if (this.ln && this.lnWhere === 'after') y = this.ln.forward(y);
    return tf.reshape(y, [...lead, this.outDim]);
  }
}

export const bottleneckBuilder: FunctionBuilder = {
  kind: 'bottleneck',
  build(c: BuildContext): BuiltModule {
    const o = c.plan.options;
    if (c.plan.heads === 'multi') return buildMultiHead(c, o.nonlinearity ?? 'relu');
    const attachments = new Map();
    const size = o.bottleneck ?? 64;
    const act = activation(o.nonlinearity ?? 'relu');
    for (const site of c.sites) {
      const uDim = c.plan.insertion === 'parallel' ? site.inDim : site.outDim;
      const m = c.store.add(`${site.path}.${c.plan.name}`, new Bottleneck(uDim, site.outDim, size, act, o.layernorm ?? 'none'));
      m.configureComposition(c.plan, uDim, c.plan.scale);
      c.store.nameTree();
      if ((o.init ?? 'bert') === 'lora') {
        c.init(m.downW, { kind: 'kaiming', fanIn: uDim });
        c.init(m.upW, { kind: 'zeros' });
      } else {
        c.init(m.downW, { kind: 'normal', std: 0.02 });
        c.init(m.upW, { kind: 'normal', std: 0.02 });
      }
      c.init(m.downB, { kind: 'zeros' });
      c.init(m.upB, { kind: 'zeros' });
      if (m.ln) {
        c.init(m.ln.weight, { kind: 'ones' });
        if (m.ln.bias) c.init(m.ln.bias, { kind: 'zeros' });
      }
      m.initComposition(c.init);
      attachments.set(site.path, m);
    }
    return { attachments };
  },
};
