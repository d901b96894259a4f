// Orthogonal Adaptation (Po et al., CVPR 2024; test/fixtures/reference/orthogonal_adaptation): a
// low-rank update ΔW = s·B·A whose A is frozen to r rows of an orthogonal basis of the site's
// input space — the basis drawn from a seed shared by the adapters meant to be merged, the rows
// chosen by the adapter's slot (disjoint slots: exactly orthogonal) — and whose B alone trains,
// from zero. Adapters with different slots then satisfy ΔW_i·ΔW_jᵀ = 0 and ΔW_j·A_iᵀ = 0: summed,
// none changes what another does on its own input subspace. Saved as plain LoRA (A is a value).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { orthonormalColumns } from '../linalg/index.js';
import { seedFor } from '../random.js';
import { PeftError } from '../../errors.js';

export class OrthogonalLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly B: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter', 'frozen']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const low = tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, this.A.value as tf.Tensor2D, false, true);
    return tf.reshape(tf.matMul(low, this.B.value as tf.Tensor2D, false, true), [...lead, this.outDim]);
  }
}

/** Rows slot·r … (slot + 1)·r − 1 of the seeded orthogonal basis of R^in: [r, in]. */
export function orthogonalRows(inDim: number, rank: number, slot: number, seed: number): Float32Array {
  const cols = orthonormalColumns(inDim, (slot + 1) * rank, seed);
  const width = (slot + 1) * rank;
  const out = new Float32Array(rank * inDim);
  for (let k = 0; k < rank; k++) for (let i = 0; i < inDim; i++) out[k * inDim + i] = cols[i * width + slot * rank + k];
  return out;
}

export function buildOrthogonal(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const { slot, seed = 0 } = o.orthogonal!;
  return buildPerSite(c, (site, uDim) => {
    if ((slot + 1) * o.rank > uDim) {
      throw new PeftError('RECIPE', `orthogonal slot ${slot} at rank ${o.rank} needs ${(slot + 1) * o.rank} basis vectors, and ${site.path}'s input has ${uDim} dimensions`, {
        where: `method.modules.${c.plan.name}.orthogonal`, hint: `at most ⌊${uDim} / ${o.rank}⌋ = ${Math.floor(uDim / o.rank)} adapters (slots 0 … ${Math.floor(uDim / o.rank) - 1}) fit at this rank`,
      });
    }
    return new OrthogonalLowRank(uDim, site.outDim, o.rank);
  }, (m, site, uDim) => {
    // the frozen rows are part of the method, not of the seed of the run: set even for shapes-only loads
    m.A.set(tf.tensor(orthogonalRows(uDim, o.rank, slot, seedFor(seed, site.path)), [o.rank, uDim]));
    c.init(m.B, { kind: 'zeros' });
  });
}
