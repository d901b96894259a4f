// lowrank with factorization: tucker — FLoRA (Si et al. 2024) on a projection: a trained core
// G [r0, r1] between trained factor matrices P0 [in, r0] (input mode) and P1 [out, r1] (output
// mode), ΔWᵀ = P0·G·P1ᵀ = the Tucker product of tucker.ts with modes [in, out], scaled by the
// composition's s (FLoRA's plain `scale`, no α/r). Δh = s·((u·P0)·G)·P1ᵀ. Init as the authors':
// G = 0 (the update starts at zero), factors N(0, 1/(2·r_i)) (kaiming_normal_ with a = √3).
// Tensor names are theirs: param_G, param_0, param_1. Convolution kernels (4 modes) use the same
// tuckerProduct on [in, out, kh, kw].
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { tuckerProduct } from './tucker.js';

export class TuckerLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly core: Param;
  readonly factorIn: Param;
  readonly factorOut: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly ranks: readonly [number, number]) {
    super();
    this.core = this.param('param_G', [...ranks], ['adapter']);
    this.factorIn = this.param('param_0', [inDim, ranks[0]], ['adapter']);
    this.factorOut = this.param('param_1', [outDim, ranks[1]], ['adapter']);
  }

  /** ΔWᵀ [in, out] (unscaled). */
  deltaWeightT(): tf.Tensor2D {
    return tuckerProduct(this.core.value, [this.factorIn.value as tf.Tensor2D, this.factorOut.value as tf.Tensor2D]) as tf.Tensor2D;
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const low = tf.matMul(tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, this.factorIn.value as tf.Tensor2D), this.core.value as tf.Tensor2D);
    return tf.reshape(tf.matMul(low, this.factorOut.value as tf.Tensor2D, false, true), [...lead, this.outDim]);
  }
}

export function buildTucker(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const [r0, r1] = c.plan.options.core!;
  const built = buildPerSite(c, (site, uDim) => new TuckerLowRank(uDim, site.outDim, [r0, r1]), (m) => {
    c.init(m.core, { kind: 'zeros' });
    c.init(m.factorIn, { kind: 'normal', std: Math.sqrt(1 / (2 * r0)) });
    c.init(m.factorOut, { kind: 'normal', std: Math.sqrt(1 / (2 * r1)) });
  });
  return { attachments: built.attachments };
}
