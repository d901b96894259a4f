// lowrank with basis: shared — VeRA (Kopiczko et al. 2024; Python peft's VERA): one pair of frozen
// random matrices A [r, max in] and B [max out, r] for the whole module, each site using the
// top-left slice that fits it, and two trained vectors per site:
//   Δh = λ_b ⊙ ((λ_d ⊙ (u·A_sᵀ))·B_sᵀ),  λ_b [out] starts at 0, λ_d [r] at d_initial.
// A and B are regenerated from projection_seed (Kaiming-uniform as peft draws them: U(±√(6/fan_in)))
// and stored only with save_projection. Parameter names are peft's: vera_lambda_b, vera_lambda_d;
// the basis is `<module>.vera.vera_A` / `vera_B` (peft's `base_model.vera_A` / `vera_B`).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite, inputDim } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { SharedTensors, checkRegenerated, regenerate, setFrozen } from './regenerate.js';

export class SharedBasis extends SharedTensors {
  readonly A: Param;
  readonly B: Param;
  constructor(readonly rank: number, readonly maxIn: number, readonly maxOut: number, stored: boolean) {
    super();
    this.A = this.frozen('vera_A', [rank, maxIn], stored);
    this.B = this.frozen('vera_B', [maxOut, rank], stored);
  }

  regenerate(seed: number, module: string): void {
    setFrozen(this.A, regenerate(seed, `${module}.vera_A`, this.A.size, { uniform: Math.sqrt(6 / this.maxIn) }));
    setFrozen(this.B, regenerate(seed, `${module}.vera_B`, this.B.size, { uniform: Math.sqrt(6 / this.rank) }));
  }
}

export class VeraLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly lambdaB: Param;
  readonly lambdaD: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, readonly basis: SharedBasis) {
    super();
    this.lambdaB = this.param('vera_lambda_b', [outDim], ['adapter']);
    this.lambdaD = this.param('vera_lambda_d', [rank], ['adapter']);
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    const a = tf.slice(this.basis.A.value, [0, 0], [this.rank, this.inDim]) as tf.Tensor2D;
    const b = tf.slice(this.basis.B.value, [0, 0], [this.outDim, this.rank]) as tf.Tensor2D;
    const low = tf.mul(tf.matMul(u2, a, false, true), this.lambdaD.value);
    return tf.reshape(tf.mul(tf.matMul(low, b, false, true), this.lambdaB.value), [...lead, this.outDim]);
  }
}

export function buildShared(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const maxIn = Math.max(...c.sites.map((s) => inputDim(c.plan, s)));
  const maxOut = Math.max(...c.sites.map((s) => s.outDim));
  if (c.values) checkRegenerated(o.rank * (maxIn + maxOut), `method.modules.${c.plan.name}.rank`, 'lower the rank');
  const basis = c.store.add(`${c.plan.name}.vera`, new SharedBasis(o.rank, maxIn, maxOut, Boolean(o.save_projection)));
  c.store.nameTree();
  if (c.values) basis.regenerate(o.projection_seed!, c.plan.name);
  const built = buildPerSite(c, (site, uDim) => new VeraLowRank(uDim, site.outDim, o.rank, basis), (m) => {
    c.init(m.lambdaB, { kind: 'zeros' });
    c.init(m.lambdaD, { kind: 'constant', value: o.d_initial! });
  });
  return { attachments: built.attachments };
}
