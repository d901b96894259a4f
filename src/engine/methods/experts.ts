// lowrank with experts — MoLA (Gao et al. 2024): E_l LoRA experts per site of layer l and a router
// R [E_l, in]; each token uses its top-k experts, weighted by their renormalised router
// probabilities:
//   p = softmax(u·Rᵀ),  S = top-k(p),  w_j = p_j / Σ_{S} p,  Δh = Σ_{j∈S} w_j · u·A_jᵀ·B_jᵀ  (scaled by α/r).
// `experts` gives E per layer (a shorter list is spread evenly over the layers: [2, 4, 6, 8] is
// the paper's 2-4-6-8). In training the router's load-balancing loss is added (MoLA's code, per
// decoder layer over the router logits of all its sites): E_l · Σ_e f_e·P_e, f_e the share of the
// layer's top-k choices that picked e, P_e its mean probability; summed over layers, times
// balance_loss. Init as theirs: router and A Kaiming-uniform, B = 0. Routed by the input, it has no
// weight to fold into.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { SiteInfo } from '../backbones/types.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { chosen, topkMask } from './topk.js';

/** Experts of a layer: the per-layer list (spread evenly when shorter than the depth) or one count. */
export function expertsAt(experts: number | number[], layer: number, depth: number): number {
  if (!Array.isArray(experts)) return experts;
  if (experts.length === depth) return experts[layer];
  return experts[Math.min(experts.length - 1, Math.floor((Math.max(0, layer) * experts.length) / Math.max(1, depth)))];
}

export class ExpertsLowRank extends SiteModule {
  protected readonly nonlinear = 'a router picks its experts for every token, so the update depends on the input';
  readonly router: Param;
  readonly A: Param;
  readonly B: Param;
  /** Router logits of the latest training forward, for the balancing loss. */
  routed: { logits: tf.Tensor2D } | null = null;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, readonly experts: number, readonly topK: number) {
    super();
    this.router = this.param('router', [experts, inDim], ['adapter']);
    this.A = this.param('lora_A', [experts, rank, inDim], ['adapter']);
    this.B = this.param('lora_B', [experts, outDim, rank], ['adapter']);
  }

  /** The renormalised top-k weights per token [n, E] (zero for experts not chosen) and the logits. */
  routing(u2: tf.Tensor2D): { weights: tf.Tensor2D; logits: tf.Tensor2D } {
    const logits = tf.matMul(u2, this.router.value as tf.Tensor2D, false, true);
    const p = tf.softmax(logits) as tf.Tensor2D;
    const mask = topkMask(p, this.topK); // [n, k, E]
    const top = chosen(p, mask); // [n, k]
    const w = tf.div(top, tf.sum(top, -1, true));
    return { weights: tf.sum(tf.mul(tf.expandDims(w, -1), mask), 1) as tf.Tensor2D, logits: logits as tf.Tensor2D };
  }

  delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    const n = u2.shape[0];
    const { weights, logits } = this.routing(u2);
    if (ctx?.training) this.routed = { logits };
    const E = this.experts;
    // every expert on every token: [n, E·r] → [E, n, r] · B_eᵀ → [E, n, out], weighted by [E, n, 1]
    const low = tf.transpose(tf.reshape(tf.matMul(u2, tf.reshape(this.A.value, [E * this.rank, this.inDim]) as tf.Tensor2D, false, true), [n, E, this.rank]), [1, 0, 2]);
    const outs = tf.matMul(low as tf.Tensor3D, this.B.value as tf.Tensor3D, false, true);
    const mixed = tf.sum(tf.mul(outs, tf.expandDims(tf.transpose(weights), -1)), 0);
    return tf.reshape(mixed, [...lead, this.outDim]);
  }
}

/**
 * MoLA's load-balancing loss for one layer from its sites' router logits (rows concatenated):
 * E · Σ_e f_e·P_e with f from the top-k choices (no gradient) and P the mean probability.
 */
export function balanceLoss(logits: tf.Tensor2D, topK: number): tf.Scalar {
  const E = logits.shape[1];
  const p = tf.softmax(logits);
  const mask = topkMask(p, topK); // [T, k, E]
  const T = logits.shape[0];
  const f = tf.div(tf.sum(mask, [0, 1]), T * topK);
  const P = tf.mean(p, 0);
  return tf.mul(tf.sum(tf.mul(f, P)), E) as tf.Scalar;
}

export function buildExperts(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const depth = c.model.dims.layers;
  const built = buildPerSite(c, (site, uDim) => new ExpertsLowRank(uDim, site.outDim, o.rank, expertsAt(o.experts, site.layer, depth), o.top_k!), (m, _site, uDim) => {
    c.init(m.router, { kind: 'kaiming', fanIn: uDim });
    c.init(m.A, { kind: 'kaiming', fanIn: uDim });
    c.init(m.B, o.init === 'random' ? { kind: 'kaiming', fanIn: o.rank } : { kind: 'zeros' });
  });
  const bySite = new Map<ExpertsLowRank, SiteInfo>(built.modules.map((m, i) => [m, c.sites[i]]));
  return {
    attachments: built.attachments,
    extraLoss(): tf.Scalar | null {
      if (!o.balance_loss) return null;
      const layers = new Map<string, tf.Tensor2D[]>();
      for (const m of built.modules) {
        if (!m.routed) continue;
        const site = bySite.get(m)!;
        const key = `${site.stack}.${site.layer}`;
        layers.set(key, [...(layers.get(key) ?? []), m.routed.logits]);
        m.routed = null;
      }
      if (layers.size === 0) return null;
      const terms = [...layers.values()].map((ls) => balanceLoss(tf.concat(ls, 0) as tf.Tensor2D, o.top_k!));
      return tf.mul(tf.addN(terms), o.balance_loss) as tf.Scalar;
    },
  };
}
