// Insertion and composition, written once for every function: a site module computes Δh from
// u (x for parallel insertion, h for sequential) and composes it back: h + Δh, h + s·Δh with a
// fixed or learned s, or (1 − λ)·h + λ·Δh with λ = σ(u·w + b). `buildPerSite` is the one
// skeleton every additive function's builder uses; `fold` is how such a module merges.
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import type { Attachment, ForwardContext } from '../nn/context.js';
import type { SiteInfo } from '../backbones/types.js';
import type { ModulePlan } from '../../plan/index.js';
import type { InitFn } from './init.js';
import type { BuildContext, BuiltModule, Foldable, WeightFold } from './types.js';

/** Gate bias at initialisation: λ = σ(−4) ≈ 0.018, so a gated module starts close to the backbone. */
export const GATE_INIT_BIAS = -4;

export abstract class SiteModule extends Module implements Attachment, Foldable {
  private insertion: ModulePlan['insertion'] = 'parallel';
  private composition: ModulePlan['composition'] = 'add';
  private fixedScale = 1;
  private scaleParam: Param | null = null;
  private gateW: Param | null = null;
  private gateB: Param | null = null;
  private dropoutRate = 0;
  /** The size of u (set with the composition). */
  private uDim = 0;

  /**
   * Why Δh is not a fixed linear map of u, or null when it is (then the module folds into the
   * projection's weight as ΔWᵀ = s·Δ(I), see `fold`). Functions with a nonlinearity say so.
   */
  protected abstract readonly nonlinear: string | null;

  /** Δh from the module's input u. */
  abstract delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor;

  /** Registers the composition's own parameters (learned scale, gate); u has `uDim` features. */
  configureComposition(plan: ModulePlan, uDim: number): void {
    this.insertion = plan.insertion;
    this.composition = plan.composition;
    this.uDim = uDim;
    this.dropoutRate = plan.options.dropout;
    if (plan.composition === 'scaled') {
      if (plan.scale === 'learned') this.scaleParam = this.param('scale', [1], ['adapter']);
      else this.fixedScale = plan.scale;
    }
    if (plan.composition === 'gated') {
      this.gateW = this.param('gate.weight', [1, uDim], ['adapter']);
      this.gateB = this.param('gate.bias', [1], ['adapter']);
    }
  }

  initComposition(init: InitFn): void {
    if (this.scaleParam) init(this.scaleParam, { kind: 'ones' });
    if (this.gateW) init(this.gateW, { kind: 'zeros' });
    if (this.gateB) init(this.gateB, { kind: 'constant', value: GATE_INIT_BIAS });
  }

  /** The scale s of `scaled` composition as a number (learned ones are read from the tensor). */
  scaleValue(): number {
    if (this.composition !== 'scaled') return 1;
    return this.scaleParam ? this.scaleParam.value.dataSync()[0] : this.fixedScale;
  }

  /**
   * s when this module's output is h + s·Δ(x), x the sublayer's own input, with no dropout in
   * effect in this pass and a fixed scale (what fused fast paths need); null otherwise.
   */
  protected plainScale(ctx: ForwardContext): number | null {
    if (this.insertion !== 'parallel' || this.composition === 'gated' || this.scaleParam) return null;
    if (ctx.training && this.dropoutRate > 0) return null;
    return this.composition === 'scaled' ? this.fixedScale : 1;
  }

  /** The module's input u: x for parallel insertion, h for sequential (a function may refine it). */
  protected input(x: tf.Tensor, h: tf.Tensor): tf.Tensor {
    return this.insertion === 'parallel' ? x : h;
  }

  /** Δh at a site (dropout on its input); a module that reads both x and h (Hydra's branches) overrides it. */
  protected deltaAt(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.delta(ctx.dropout(this.input(x, h), this.dropoutRate), ctx);
  }

  /** The module's input dropout rate. */
  protected get inputDropout(): number {
    return this.dropoutRate;
  }

  transform(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const u = this.input(x, h);
    const d = this.deltaAt(x, h, ctx);
    switch (this.composition) {
      case 'add':
        return tf.add(h, d);
      case 'scaled':
        return tf.add(h, tf.mul(d, this.scaleParam ? this.scaleParam.value : this.fixedScale));
      case 'gated': {
        const lam = tf.sigmoid(tf.add(tf.sum(tf.mul(u, tf.reshape(this.gateW!.value, [-1])), -1, true), this.gateB!.value));
        return tf.add(tf.mul(h, tf.sub(1, lam)), tf.mul(d, lam));
      }
    }
  }

  /** A linear Δ of the projection's input folds into its weight: ΔWᵀ = s·Δ(I) [in, out]. */
  fold(): WeightFold {
    if (this.nonlinear) return { kind: 'refuse', why: this.nonlinear };
    if (this.insertion !== 'parallel') return { kind: 'refuse', why: 'sequential insertion multiplies the projection\'s output, not its input' };
    if (this.composition === 'gated') return { kind: 'refuse', why: 'a gate depends on the input' };
    return {
      kind: 'delta',
      // Δ is linear in u, so its matrix is its image of the identity
      matrix: () => tf.tidy(() => tf.mul(this.delta(tf.eye(this.uDim), null as never), this.scaleValue()) as tf.Tensor2D),
    };
  }
}

/** u's size at a site: x for parallel insertion, h for sequential. */
export function inputDim(plan: ModulePlan, site: SiteInfo): number {
  return plan.insertion === 'parallel' ? site.inDim : site.outDim;
}

/**
 * The skeleton of every additive function's builder: one module per site (made from the site and
 * u's size), the composition's parameters, names fixed once, then seeded initialisation.
 */
export function buildPerSite<P extends ModulePlan, M extends SiteModule>(
  c: BuildContext<P>,
  make: (site: SiteInfo, uDim: number) => M,
  init: (m: M, site: SiteInfo, uDim: number) => void,
): BuiltModule & { modules: M[] } {
  const made = c.sites.map((site) => {
    const uDim = inputDim(c.plan, site);
    const m = c.store.add(`${site.path}.${c.plan.name}`, make(site, uDim));
    m.configureComposition(c.plan, uDim);
    return { site, uDim, m };
  });
  c.store.nameTree();
  for (const { site, uDim, m } of made) {
    init(m, site, uDim);
    m.initComposition(c.init);
  }
  return { attachments: new Map(made.map(({ site, m }) => [site.path, m])), modules: made.map(({ m }) => m) };
}
