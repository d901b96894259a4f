// subspace (intrinsic dimension, Li et al. 2018): the weights of the module's sites, taken in site
// order and flattened row-major as [out, in], move together as θ = θ0 + P·d. d [dimension] is the
// only trainable tensor (zero at init, so the model starts as the backbone); P is a Fastfood or
// dense random projection (fastfood.ts) regenerated from projection_seed, not stored unless
// save_projection. Each site adds Δh = u·ΔWᵀ with ΔW its slice of P·d; P·d is computed once per
// forward pass. The adapter file holds d alone (+ the seed in its config): 4·d bytes.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import { SharedTensors, checkRegenerated, setFrozen } from './regenerate.js';
import { fastfood, fastfoodFactors, paddedSize } from './fastfood.js';
import { normalArray, seedFor } from '../random.js';
import { PeftError } from '../../errors.js';

export class SubspaceVector extends SharedTensors {
  readonly d: Param;
  readonly signs: Param | null = null;
  readonly perm: Param | null = null;
  readonly gauss: Param | null = null;
  readonly dense: Param | null = null;
  private norm = 1;
  private readonly memo = new WeakMap<ForwardContext, tf.Tensor1D>();

  constructor(readonly dim: number, readonly D: number, readonly kind: 'dense' | 'fastfood', stored: boolean) {
    super();
    this.d = this.trained('d', [dim]);
    if (kind === 'fastfood') {
      const LL = paddedSize(D);
      this.signs = this.frozen('fastfood_signs', [LL], stored);
      this.perm = this.frozen('fastfood_perm', [LL], stored);
      this.gauss = this.frozen('fastfood_gauss', [LL], stored);
    } else this.dense = this.frozen('projection', [D, dim], stored);
  }

  regenerate(seed: number, name: string): void {
    if (this.kind === 'fastfood') {
      const f = fastfoodFactors(seed, name, this.D);
      setFrozen(this.signs!, f.signs);
      setFrozen(this.perm!, f.perm);
      setFrozen(this.gauss!, f.gauss);
      return;
    }
    // a Gaussian [D, d] drawn column by column, each column scaled to unit norm over all of D
    const p = new Float32Array(this.D * this.dim);
    for (let j = 0; j < this.dim; j++) {
      const col = normalArray(this.D, 1, seedFor(seed, `${name}.projection.${j}`));
      let s = 0;
      for (let i = 0; i < this.D; i++) s += col[i] ** 2;
      const inv = 1 / Math.sqrt(s);
      for (let i = 0; i < this.D; i++) p[i * this.dim + j] = col[i] * inv;
    }
    setFrozen(this.dense!, p);
  }

  private normOf: tf.Tensor | null = null;

  /** Fastfood's normaliser √(D·Σ G²), from the G in use (regenerated, or loaded with save_projection). */
  private fastfoodNorm(): number {
    const g = this.gauss!.value;
    if (this.normOf !== g) {
      const v = g.dataSync();
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i] ** 2;
      this.norm = Math.sqrt(this.D * s);
      this.normOf = g;
    }
    return this.norm;
  }

  /** P·d [D], once per forward context. */
  offsets(ctx: ForwardContext | null): tf.Tensor1D {
    const hit = ctx ? this.memo.get(ctx) : undefined;
    if (hit && !hit.isDisposed) return hit;
    const out = this.kind === 'fastfood'
      ? fastfood(this.d.value as tf.Tensor1D, {
        signs: this.signs!.value as tf.Tensor1D, perm: this.perm!.value as tf.Tensor1D, gauss: this.gauss!.value as tf.Tensor1D,
        D: this.D, LL: this.signs!.shape[0], norm: this.fastfoodNorm(),
      })
      : (tf.reshape(tf.matMul(this.dense!.value as tf.Tensor2D, tf.reshape(this.d.value, [-1, 1]) as tf.Tensor2D), [-1]) as tf.Tensor1D);
    if (ctx) this.memo.set(ctx, ctx.forPass(out));
    return out;
  }
}

export class SubspaceSite extends SiteModule {
  protected readonly nonlinear = null;
  constructor(readonly inDim: number, readonly outDim: number, readonly start: number, readonly vector: SubspaceVector) {
    super();
  }

  /** ΔW [out, in]: this site's slice of P·d. */
  deltaWeight(ctx: ForwardContext | null): tf.Tensor2D {
    return tf.reshape(tf.slice(this.vector.offsets(ctx), [this.start], [this.outDim * this.inDim]), [this.outDim, this.inDim]) as tf.Tensor2D;
  }

  delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    return tf.reshape(tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, this.deltaWeight(ctx ?? null), false, true), [...lead, this.outDim]);
  }
}

export const subspaceModule: FunctionModule<'subspace'> = {
  kind: 'subspace',
  build(c) {
    const o = c.plan.options;
    const starts: number[] = [];
    let D = 0;
    for (const s of c.sites) {
      starts.push(D);
      D += s.inDim * s.outDim;
    }
    if (o.dimension > D) {
      throw new PeftError('RECIPE', `dimension ${o.dimension} is more than the ${D} weights it would move`, { where: `method.modules.${c.plan.name}.dimension` });
    }
    if (c.values) {
      const held = o.projection === 'dense' ? D * o.dimension : 3 * paddedSize(D);
      checkRegenerated(held, `method.modules.${c.plan.name}.projection`, o.projection === 'dense' ? 'use projection: fastfood, a smaller dimension or fewer positions' : 'adapt fewer positions');
    }
    const vector = c.store.add(`${c.plan.name}.subspace`, new SubspaceVector(o.dimension, D, o.projection, o.save_projection));
    c.store.nameTree();
    c.init(vector.d, { kind: 'zeros' });
    if (c.values) vector.regenerate(o.projection_seed, c.plan.name);
    const index = new Map(c.sites.map((s, i) => [s, i]));
    const built = buildPerSite(c, (site) => new SubspaceSite(site.inDim, site.outDim, starts[index.get(site)!], vector), () => {});
    return { attachments: built.attachments };
  },
};
