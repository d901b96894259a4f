// prefix (prefix tuning, Li & Liang 2021; He et al. Eq. 5, 7–10): per attention, `length`
// learned keys P_k and values P_v of shape [kvHeads, length, headDim].
//  - composition `gated`: they are handed to the attention (Attachment.prefix), which puts them
//    before its own keys/values and lets every query attend to them. The softmax over
//    [P_k; K] is exactly (1 − λ)·h + λ·softmax(q·P_kᵀ)·P_v with λ the prefix's share of the
//    attention mass (He et al. Eq. 7–10): the gate is the attention itself.
//  - composition `add` / `scaled`: the ungated variant (He et al. Table 4, "−gating"): per head,
//    Δh = softmax(q·P_kᵀ/√d)·P_v is added to the head's output at the `heads` site.
// Parameters are direct, or `reparam: {hidden: H}`: one MLP per module and location group
// (stack × self/cross attention, as AdapterHub and the paper): E [length, d] → Linear(d, H) →
// tanh → Linear(H, n·2·kvHeads·headDim), viewed [length, n·2, kvHeads, headDim]; the group's
// i-th site (in layer order) takes slot 2i as keys and 2i+1 as values (Python peft's
// prompt_embeddings layout too). The MLP runs once per forward pass. Saved, it collapses to
// plain prefixes (storedShapes/storedTensors): the MLP trains, its output is stored.
// `shift_positions`: real tokens' positions start after the prefix (Python peft's convention,
// which takes positions from the past length); by default positions are kept (AdapterHub, paper).
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import type { Attachment, ForwardContext, PrefixKV } from '../nn/context.js';
import type { SiteInfo } from '../backbones/types.js';
import { SiteModule } from './compose.js';
import type { BuildContext, BuiltModule, Foldable, FunctionModule, WeightFold } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { vectorInitRule } from './prompt.js';
import { PeftError } from '../../errors.js';

/** Keys and values of one attention: [kvHeads, length, headDim] each. */
export interface PrefixValues {
  key: tf.Tensor3D;
  value: tf.Tensor3D;
}

/** Where a site's prefix comes from: its own parameters or its group's MLP (ctx null: outside a forward). */
export type PrefixSource = (ctx: ForwardContext | null) => PrefixValues;

/** The reparameterisation MLP of one location group. */
export class PrefixMlp extends Module {
  readonly embedding: Param;
  readonly w0: Param;
  readonly b0: Param;
  readonly w2: Param;
  readonly b2: Param;
  private readonly memo = new WeakMap<ForwardContext, tf.Tensor4D>();

  constructor(
    readonly length: number,
    readonly dim: number,
    readonly hidden: number,
    readonly sites: number,
    readonly kv: number,
    readonly headDim: number,
  ) {
    super();
    const out = sites * 2 * kv * headDim;
    this.embedding = this.param('embedding', [length, dim], ['adapter']);
    this.w0 = this.param('transform.0.weight', [hidden, dim], ['adapter']);
    this.b0 = this.param('transform.0.bias', [hidden], ['adapter']);
    this.w2 = this.param('transform.2.weight', [out, hidden], ['adapter']);
    this.b2 = this.param('transform.2.bias', [out], ['adapter']);
  }

  /** [length, sites·2, kv, headDim], computed once per forward context. */
  output(ctx: ForwardContext | null): tf.Tensor4D {
    const hit = ctx ? this.memo.get(ctx) : undefined;
    if (hit && !hit.isDisposed) return hit;
    const h = tf.tanh(tf.add(tf.matMul(this.embedding.value as tf.Tensor2D, this.w0.value as tf.Tensor2D, false, true), this.b0.value));
    const o = tf.add(tf.matMul(h as tf.Tensor2D, this.w2.value as tf.Tensor2D, false, true), this.b2.value);
    const out = tf.reshape(o, [this.length, this.sites * 2, this.kv, this.headDim]) as tf.Tensor4D;
    if (ctx) this.memo.set(ctx, ctx.forPass(out));
    return out;
  }

  /** Site i's keys (slot 2i) and values (slot 2i + 1). */
  values(i: number, ctx: ForwardContext | null): PrefixValues {
    return this.split(this.output(ctx), i);
  }

  split(out: tf.Tensor4D, i: number): PrefixValues {
    const slot = (s: number) => tf.transpose(tf.reshape(tf.slice(out, [0, s, 0, 0], [-1, 1, -1, -1]), [this.length, this.kv, this.headDim]), [1, 0, 2]) as tf.Tensor3D;
    return { key: slot(2 * i), value: slot(2 * i + 1) };
  }
}

/** Gated prefix: keys/values concatenated in the attention. */
export class PrefixAttention extends Module implements Attachment, Foldable {
  readonly key: Param | null;
  readonly value: Param | null;
  source: PrefixSource;
  constructor(readonly kv: number, readonly length: number, readonly headDim: number, direct: boolean) {
    super();
    this.key = direct ? this.param('prefix_key', [kv, length, headDim], ['adapter']) : null;
    this.value = direct ? this.param('prefix_value', [kv, length, headDim], ['adapter']) : null;
    this.source = () => ({ key: this.key!.value as tf.Tensor3D, value: this.value!.value as tf.Tensor3D });
  }

  prefix(batch: number, ctx: ForwardContext): PrefixKV {
    const { key, value } = this.source(ctx);
    const tile = (t: tf.Tensor3D) => tf.tile(tf.expandDims(t, 0), [batch, 1, 1, 1]) as tf.Tensor4D;
    return { key: tile(key), value: tile(value) };
  }

  fold(): WeightFold {
    return { kind: 'refuse', why: 'it adds positions to the attention, not weights' };
  }
}

/** Ungated prefix: per head Δh = softmax(q·P_kᵀ/√d)·P_v, composed by add or scaled. */
export class UngatedPrefix extends SiteModule {
  protected readonly nonlinear = 'its Δh is an attention over learned prefixes (a softmax of the input)';
  readonly key: Param | null;
  readonly value: Param | null;
  source: PrefixSource;
  constructor(readonly heads: number, readonly kv: number, readonly length: number, readonly headDim: number, direct: boolean) {
    super();
    this.key = direct ? this.param('prefix_key', [kv, length, headDim], ['adapter']) : null;
    this.value = direct ? this.param('prefix_value', [kv, length, headDim], ['adapter']) : null;
    this.source = () => ({ key: this.key!.value as tf.Tensor3D, value: this.value!.value as tf.Tensor3D });
  }

  /** [kv, P, d] → [H, P, d]: kv head j serves query heads j·n … j·n + n − 1. */
  private perHead(t: tf.Tensor3D): tf.Tensor3D {
    const n = this.heads / this.kv;
    if (n === 1) return t;
    return tf.reshape(tf.tile(tf.expandDims(t, 1), [1, n, 1, 1]), [this.heads, this.length, this.headDim]) as tf.Tensor3D;
  }

  delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const [B, T] = u.shape;
    const H = this.heads;
    const d = this.headDim;
    const { key, value } = this.source(ctx);
    const q = tf.reshape(tf.transpose(tf.reshape(u, [B, T, H, d]), [2, 0, 1, 3]), [H, B * T, d]) as tf.Tensor3D;
    const probs = tf.softmax(tf.mul(tf.matMul(q, this.perHead(key), false, true), 1 / Math.sqrt(d)));
    const out = tf.matMul(probs as tf.Tensor3D, this.perHead(value)); // [H, B·T, d]
    return tf.reshape(tf.transpose(tf.reshape(out, [H, B, T, d]), [1, 2, 0, 3]), [B, T, H * d]);
  }
}

type PrefixSite = PrefixAttention | UngatedPrefix;

/** Location group of a heads site: its stack and attention kind (`model.self_attn`, `decoder.cross_attn`). */
export function prefixGroup(site: SiteInfo): string {
  return `${site.stack}.${site.position.split('.')[0]}`;
}

function initDirect(c: BuildContext<ModulePlanOf<'prefix'>>, m: PrefixSite): void {
  const rule = vectorInitRule(c.plan.options.init)!; // the table lists only vector inits for prefix
  c.init(m.key!, rule);
  c.init(m.value!, rule);
}

export const prefixModule: FunctionModule<'prefix'> = {
  kind: 'prefix',
  build(c) {
    const { length, reparam, shift_positions: shift } = c.plan.options;
    const gated = c.plan.composition === 'gated';
    const hidden = reparam?.hidden ?? null;
    const made = [...c.sites].sort((a, b) => a.layer - b.layer).map((site) => {
      if (!site.heads) {
        throw new PeftError('RECIPE', `prefix tuning needs an attention's heads, but ${site.position} has none`, {
          where: `method.modules.${c.plan.name}`, hint: 'use position attn.heads',
        });
      }
      const { num, kv, dim } = site.heads;
      const m: PrefixSite = gated ? new PrefixAttention(kv, length, dim, hidden === null) : new UngatedPrefix(num, kv, length, dim, hidden === null);
      c.store.add(`${site.path}.${c.plan.name}`, m);
      if (m instanceof UngatedPrefix) m.configureComposition(c.plan, num * dim);
      return { site, m };
    });
    c.store.nameTree();
    const groups = new Map<string, { site: SiteInfo; m: PrefixSite }[]>();
    for (const { site, m } of made) {
      if (hidden === null) initDirect(c, m);
      if (m instanceof UngatedPrefix) m.initComposition(c.init);
      const g = prefixGroup(site);
      groups.set(g, [...(groups.get(g) ?? []), { site, m }]);
    }
    const built: BuiltModule = { attachments: new Map(made.map(({ site, m }) => [site.path, m])), positionOffset: shift ? length : 0 };
    if (hidden === null) return built;

    const storedShapes = new Map<string, number[]>();
    const mlps: { mlp: PrefixMlp; members: { site: SiteInfo; m: PrefixSite }[] }[] = [];
    for (const [g, members] of groups) {
      const { kv, dim } = members[0].site.heads!;
      if (members.some((x) => x.site.heads!.kv !== kv || x.site.heads!.dim !== dim)) {
        throw new PeftError('RECIPE', `prefix reparam: the attentions of ${g} differ in key/value geometry`, { where: `method.modules.${c.plan.name}.reparam` });
      }
      const mlp = c.store.add(`${c.plan.name}.${g}`, new PrefixMlp(length, c.model.dims.hidden, hidden, members.length, kv, dim));
      c.store.nameTree();
      // as torch's defaults: Embedding N(0, 1), Linear U(±1/√fan_in) for weight and bias
      c.init(mlp.embedding, { kind: 'normal', std: 1 });
      c.init(mlp.w0, { kind: 'kaiming', fanIn: mlp.dim });
      c.init(mlp.b0, { kind: 'kaiming', fanIn: mlp.dim });
      c.init(mlp.w2, { kind: 'kaiming', fanIn: hidden });
      c.init(mlp.b2, { kind: 'kaiming', fanIn: hidden });
      members.forEach(({ site, m }, i) => {
        m.source = (ctx) => mlp.values(i, ctx);
        for (const part of ['prefix_key', 'prefix_value']) storedShapes.set(`${site.path}.${c.plan.name}.${part}`, [kv, length, dim]);
        // the site's own parameters (a learned scale of the ungated form) are stored as they are
        for (const [n, p] of m.namedParams(`${site.path}.${c.plan.name}.`)) storedShapes.set(n, [...p.shape]);
      });
      mlps.push({ mlp, members });
    }
    built.storedShapes = storedShapes;
    built.storedTensors = () => {
      const names: string[] = [];
      const values = tf.tidy(() => mlps.flatMap(({ mlp, members }) => {
        const all = mlp.output(null);
        return members.flatMap(({ site, m }, i) => {
          const { key, value } = mlp.split(all, i);
          const own = m.namedParams(`${site.path}.${c.plan.name}.`);
          names.push(`${site.path}.${c.plan.name}.prefix_key`, `${site.path}.${c.plan.name}.prefix_value`, ...own.map(([n]) => n));
          return [key, value, ...own.map(([, p]) => tf.clone(p.value))];
        });
      }));
      return new Map(names.map((n, i) => [n, values[i]]));
    };
    return built;
  },
};
