// lowrank with factorization: tucker — FLoRA (Si et al. 2024): the update of an N-dimensional
// weight is a small core G [r0, …, r(N−1)] times one factor matrix P_i [d_i, r_i] per dimension,
//   ΔW[d0, …, d(N−1)] = s · Σ G[r0, …] · P0[d0, r0] · … · P(N−1)[d(N−1), r(N−1)],
// with dims (in, out) for a projection and (in, out, kh, kw) for a convolution kernel, as the
// authors' FLoRALayer orders them (factor 0 ↔ input channels, 1 ↔ output channels). Their init:
// G = 0 (the update starts at zero), P_i ~ N(0, 1/(2·r_i)) (kaiming_normal_ with a = √3, fan-in
// r_i). The N-dimensional product is tucker.ts's `tuckerProduct`; a projection's Δh is u·P0·G·P1ᵀ,
// a convolution's is the site's convolution of u with the assembled kernel. Tensor names are the
// authors': param_G, param_0, param_1, ….
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { ConvGeometry, SiteInfo } from '../backbones/types.js';
import { SiteModule } from './compose.js';
import { tuckerProduct } from './tucker.js';
import { convolveLike } from './conv-geometry.js';
import type { InitFn } from './init.js';
import type { WeightFold } from './types.js';

/** The core's size: the recipe's core (a 2-rank core at a kernel gets the kernel dims' defaults), else rank for the channel dims and min(k, 2) for each kernel dim (the authors' example: [16, 16, 2, 2] on 3×3 kernels). */
export function coreRanks(site: SiteInfo, rank: number, given?: number[]): number[] {
  const dims = tuckerDims(site);
  const fallback = dims.map((d, i) => (i < 2 ? rank : Math.min(d, 2)));
  const ranks = given ? dims.map((_, i) => given[i] ?? fallback[i]) : fallback;
  return ranks.map((r, i) => Math.min(r, Math.max(1, dims[i])) || 1);
}

/** The weight's dims in FLoRA's order: [in, out] or [in, out, kh, kw]. */
export function tuckerDims(site: SiteInfo): number[] {
  return site.conv ? [site.inDim, site.outDim, ...site.conv.kernel] : [site.inDim, site.outDim];
}

abstract class Tucker extends SiteModule {
  protected readonly nonlinear = null;
  readonly core: Param;
  readonly factors: Param[];

  constructor(readonly dims: number[], readonly ranks: number[]) {
    super();
    this.core = this.param('param_G', ranks, ['adapter']);
    this.factors = dims.map((d, i) => this.param(`param_${i}`, [d, ranks[i]], ['adapter']));
  }

  /** ΔW in FLoRA's dim order [in, out, …], without the scale. */
  deltaWeight(): tf.Tensor {
    return tuckerProduct(this.core.value, this.factors.map((f) => f.value as tf.Tensor2D));
  }

  init(init: InitFn, random: boolean): void {
    // random: a non-zero core too (tests and the `random` init); otherwise the authors' zero core
    init(this.core, random ? { kind: 'normal', std: 0.1 } : { kind: 'zeros' });
    this.factors.forEach((f, i) => init(f, { kind: 'normal', std: Math.sqrt(1 / (2 * this.ranks[i])) }));
  }
}

/** At a projection: Δh = u·P0·G·P1ᵀ (= u·ΔWᵀ with ΔW [out, in] = P1·Gᵀ·P0ᵀ). */
export class TuckerLinear extends Tucker {
  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const [inDim, outDim] = this.dims;
    const lead = u.shape.slice(0, -1);
    const a = tf.matMul(tf.reshape(u, [-1, inDim]) as tf.Tensor2D, this.factors[0].value as tf.Tensor2D);
    const b = tf.matMul(tf.matMul(a, this.core.value as tf.Tensor2D), this.factors[1].value as tf.Tensor2D, false, true);
    return tf.reshape(b, [...lead, outDim]);
  }
}

/** At a convolution: Δh = the site's convolution of u with the kernel ΔW (as a filter [kh, kw, in, out]). */
export class TuckerConv extends Tucker {
  constructor(readonly geometry: ConvGeometry, dims: number[], ranks: number[]) {
    super(dims, ranks);
  }

  filter(): tf.Tensor4D {
    return tf.transpose(this.deltaWeight(), [2, 3, 0, 1]) as tf.Tensor4D;
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    return convolveLike(this.geometry, u, this.filter());
  }

  override fold(): WeightFold {
    const base = super.fold();
    if (base.kind === 'refuse') return base;
    return { kind: 'filter-delta', filter: () => tf.tidy(() => tf.mul(this.filter(), this.scaleValue()) as tf.Tensor4D) };
  }
}
