// lowrank with basis: combination — NOLA (Koohpayegani et al. 2024): A and B are linear
// combinations of frozen random matrices, only the coefficients train:
//   A = A0 + Σ_i α_i A_i [r, in],  B = Σ_j β_j B_j [out, r],  Δh = u·Aᵀ·Bᵀ (scaled by α/r).
// As the authors' GPT-2/LLaMA code (not the paper's A = Σα_iA_i): a frozen Kaiming-uniform offset
// A0 and α = β = 0 at init, so the update starts at zero and β gets a gradient; with the paper's
// form and zero coefficients both gradients would be zero. Bases are U(−1, 1)/√k as their
// GenerateParams draws them, regenerated per site from projection_seed (not stored unless
// save_projection): the adapter holds k + l numbers per site.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite, inputDim } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { checkRegenerated, regenerate, setFrozen } from './regenerate.js';

export class NolaLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly alpha: Param;
  readonly beta: Param;
  readonly offset: Param;
  readonly basesA: Param;
  readonly basesB: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, readonly k: number, readonly l: number, stored: boolean) {
    super();
    this.alpha = this.param('nola_alpha', [k], ['adapter']);
    this.beta = this.param('nola_beta', [l], ['adapter']);
    const tags = stored ? ['adapter', 'stored'] : ['adapter'];
    this.offset = this.buffer('nola_A0', [rank, inDim], tags);
    this.basesA = this.buffer('nola_A_bases', [k, rank, inDim], tags);
    this.basesB = this.buffer('nola_B_bases', [l, outDim, rank], tags);
  }

  regenerate(seed: number): void {
    const name = this.alpha.fullName.replace(/\.nola_alpha$/, '');
    setFrozen(this.offset, regenerate(seed, `${name}.nola_A0`, this.offset.size, { uniform: 1 / Math.sqrt(this.inDim) }));
    setFrozen(this.basesA, regenerate(seed, `${name}.nola_A_bases`, this.basesA.size, { uniform: 1 / Math.sqrt(this.k) }));
    setFrozen(this.basesB, regenerate(seed, `${name}.nola_B_bases`, this.basesB.size, { uniform: 1 / Math.sqrt(this.l) }));
  }

  /** A [r, in] and B [out, r] from the coefficients. */
  factors(): { a: tf.Tensor2D; b: tf.Tensor2D } {
    const mix = (c: Param, bases: Param, rows: number, cols: number) =>
      tf.reshape(tf.matMul(tf.reshape(c.value, [1, -1]) as tf.Tensor2D, tf.reshape(bases.value, [bases.shape[0], -1]) as tf.Tensor2D), [rows, cols]) as tf.Tensor2D;
    return {
      a: tf.add(this.offset.value, mix(this.alpha, this.basesA, this.rank, this.inDim)) as tf.Tensor2D,
      b: mix(this.beta, this.basesB, this.outDim, this.rank),
    };
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const { a, b } = this.factors();
    const low = tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, a, false, true);
    return tf.reshape(tf.matMul(low, b, false, true), [...lead, this.outDim]);
  }
}

export function buildCombination(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const [k, l] = Array.isArray(o.num_basis) ? o.num_basis : [o.num_basis!, o.num_basis!];
  const total = c.sites.reduce((n, s) => n + (k + 1) * o.rank * inputDim(c.plan, s) + l * s.outDim * o.rank, 0);
  if (c.values) checkRegenerated(total, `method.modules.${c.plan.name}.num_basis`, 'lower num_basis or the rank, or adapt fewer positions');
  const built = buildPerSite(c, (site, uDim) => new NolaLowRank(uDim, site.outDim, o.rank, k, l, Boolean(o.save_projection)), (m) => {
    c.init(m.alpha, { kind: 'zeros' });
    c.init(m.beta, { kind: 'zeros' });
    if (c.values) m.regenerate(o.projection_seed!);
  });
  return { attachments: built.attachments };
}
