// Multi-head functions at attn.heads (He et al. Table 1, "MH parallel adapter"): per head i,
// Δh_i = f(q_i · W_down^(i)) · W_up^(i), where q_i is head i's query (x·W_q^(i), parallel
// insertion) and the result adds to head i's attention output. With f = softmax this is prefix
// attention without the gate; with f = identity a per-head low-rank update.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { Nonlinearity } from '../../plan/index.js';
import type { BuildContext, BuiltModule } from './types.js';
import { PeftError } from '../../errors.js';

export class MultiHeadBottleneck extends SiteModule {
  readonly down: Param;
  readonly up: Param;
  protected readonly nonlinear: string | null;
  constructor(readonly heads: number, readonly headDim: number, readonly size: number, readonly act: Activation, f: Nonlinearity) {
    super();
    // per head, Δh_i is linear in q_i when f is the identity: a block-diagonal ΔW on the heads' output
    this.nonlinear = f === 'identity' ? null : 'its Δh passes through a nonlinearity';
    this.down = this.param('down', [heads, headDim, size], ['adapter']);
    this.up = this.param('up', [heads, size, headDim], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const [B, T] = u.shape;
    const H = this.heads;
    const d = this.headDim;
    const perHead = tf.transpose(tf.reshape(u, [B * T, H, d]), [1, 0, 2]) as tf.Tensor3D; // [H, BT, d]
    const mid = this.act(tf.matMul(perHead, this.down.value as tf.Tensor3D)) as tf.Tensor3D; // [H, BT, r]
    const out = tf.matMul(mid, this.up.value as tf.Tensor3D); // [H, BT, d]
    return tf.reshape(tf.transpose(out, [1, 0, 2]), [B, T, H * d]);
  }
}

/** Per-head modules at attn.heads sites: `size` is the rank or bottleneck, f the nonlinearity. */
export function buildMultiHead(c: BuildContext, size: number, nonlinearity: Nonlinearity): BuiltModule {
  const act = activation(nonlinearity);
  return buildPerSite(c, (site) => {
    if (!site.heads) {
      throw new PeftError('RECIPE', `heads: multi needs an attention's heads, but ${site.position} has none`, {
        where: `method.modules.${c.plan.name}`,
        hint: 'use position attn.heads with heads: multi',
      });
    }
    return new MultiHeadBottleneck(site.heads.num, site.heads.dim, size, act, nonlinearity);
  }, (m) => {
    if (c.plan.options.init === 'lora') {
      c.init(m.down, { kind: 'kaiming', fanIn: m.headDim });
      c.init(m.up, { kind: 'zeros' });
    } else {
      c.init(m.down, { kind: 'normal', std: 0.02 });
      c.init(m.up, { kind: 'normal', std: 0.02 });
    }
  });
}
