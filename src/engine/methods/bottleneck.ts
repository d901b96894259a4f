// bottleneck: Δh = f(u·W_downᵀ + b_down)·W_upᵀ + b_up, optionally with a LayerNorm on u (before)
// or on Δh (after). Houlsby/Pfeiffer adapters (sequential), parallel adapters (parallel), scaled
// PA (composition scaled). Init `bert`: N(0, 0.02) weights, zero biases; `lora`: W_down
// Kaiming-uniform, W_up and biases zero (He et al. App. A.3).
// `ln_input: original` (post-LN families, sequential insertion, at a sublayer's output): the
// input is u = LN(x + h), the sublayer's own pre-trained LayerNorm applied to what the layer would
// have normalised; Δh is still added to h, before that same LN. At the FFN this is AdapterHub's
// seq_bn (Pfeiffer): y = LN(h + r + Up(relu(Down(LN(h + r))))). The LN is the backbone's, so it
// is neither trained nor stored with the adapter.
import * as tf from '@tensorflow/tfjs-core';
import type { Module, Param } from '../nn/module.js';
import { LayerNorm } from '../nn/norm.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import type { SiteInfo } from '../backbones/types.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, FunctionModule } from './types.js';
import type { ModulePlanOf, Nonlinearity } from '../../plan/index.js';
import { buildMultiHead } from './multihead.js';
import { buildSplitBottleneck } from './split-bottleneck.js';
import { PeftError } from '../../errors.js';

/** A normalisation the module borrows from the backbone (not one of its own parameters). */
export interface BorrowedNorm {
  forward(x: tf.Tensor): tf.Tensor;
}

export class Bottleneck extends SiteModule {
  readonly downW: Param;
  readonly downB: Param;
  readonly upW: Param;
  readonly upB: Param;
  readonly ln: LayerNorm | null;
  /** `ln_input: original`: the sublayer's own LayerNorm, applied to x + h to form the input. */
  inputNorm: BorrowedNorm | null = null;
  protected readonly nonlinear: string | null;
  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly size: number,
    readonly act: Activation,
    readonly lnWhere: 'none' | 'before' | 'after',
    f: Nonlinearity,
  ) {
    super();
    // with f = identity Δh is still affine (the adapter's biases), not a weight update
    this.nonlinear = f === 'identity' ? 'its Δh has the adapter\'s own biases (affine, not linear in u)' : 'its Δh passes through a nonlinearity';
    this.downW = this.param('adapter_down.weight', [size, inDim], ['adapter']);
    this.downB = this.param('adapter_down.bias', [size], ['adapter']);
    this.upW = this.param('adapter_up.weight', [outDim, size], ['adapter']);
    this.upB = this.param('adapter_up.bias', [outDim], ['adapter']);
    this.ln = lnWhere === 'none' ? null : this.module('adapter_norm', new LayerNorm(lnWhere === 'before' ? inDim : outDim, 1e-5));
  }

  protected override input(x: tf.Tensor, h: tf.Tensor): tf.Tensor {
    return this.inputNorm ? this.inputNorm.forward(tf.add(x, h)) : super.input(x, h);
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

/** The sublayer's own LayerNorm at a post-LN site, for `ln_input: original`. */
function siteNorm(c: BuildContext<ModulePlanOf<'bottleneck'>>, site: SiteInfo): BorrowedNorm {
  const where = `method.modules.${c.plan.name}.ln_input`;
  if (c.plan.insertion !== 'sequential') {
    throw new PeftError('RECIPE', 'ln_input: original needs insertion: sequential (its input replaces h)', { where });
  }
  if (!site.norm) {
    throw new PeftError('RECIPE', `ln_input: original needs a post-LN sublayer, and ${site.stack} ${site.position} of this ${c.model.family} backbone has none`, {
      where, hint: 'it applies at attn.output / ffn.output of post-LN families (BERT, RoBERTa, DistilBERT, BART)',
    });
  }
  const hit = c.model.root.namedModules().find(([n]) => n === site.norm);
  if (!hit) throw new PeftError('RECIPE', `no module ${site.norm} in this backbone`, { where });
  return hit[1] as Module & BorrowedNorm;
}

export const bottleneckModule: FunctionModule<'bottleneck'> = {
  kind: 'bottleneck',
  build(c) {
    const o = c.plan.options;
    if (c.plan.heads === 'multi' && o.subadapters) {
      throw new PeftError('RECIPE', 'split sub-adapters (MoSA) are not available per head', { where: `method.modules.${c.plan.name}.subadapters`, hint: 'use heads: single' });
    }
    if (c.plan.heads === 'multi') return buildMultiHead(c, o.bottleneck, o.nonlinearity);
    if (o.subadapters) return buildSplitBottleneck(c);
    const act = activation(o.nonlinearity);
    return buildPerSite(c, (site, uDim) => {
      const m = new Bottleneck(uDim, site.outDim, o.bottleneck, act, o.layernorm, o.nonlinearity);
      if (o.ln_input === 'original') m.inputNorm = siteNorm(c, site);
      return m;
    }, (m, _site, uDim) => {
      if (o.init === 'lora') {
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
    });
  },
};
