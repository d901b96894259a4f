// svd (AdaLoRA, Zhang et al. 2023; Python peft's ADALORA): the update in SVD form P·Λ·Q,
// Δh = u·(A ⊙ E)ᵀ·Bᵀ with A = Q [r, in], E = diag(Λ) [r, 1], B = P [out, r] (peft's lora_A,
// lora_E, lora_B), composed with s = α/(ranknum + 1e-5) as peft does (ranknum = the initial rank;
// the rule is the function table's, src/plan/functions/svd.ts).
// In training two things make it adaptive: an orthogonality penalty on P and Q (extraLoss) and a
// rank allocator run after every optimizer step (afterStep): AdaLoRA's zeroes the least important
// singular values down to a budget (rank-allocator.ts); IncreLoRA's (rank_schedule: grow,
// increlora-allocator.ts) adds ranks to the most important modules up to one. A growing module
// reserves max_rank rows; it uses its `active` ranks plus a `reserve` block whose A and B train in
// advance while its E stays frozen at 1e-5, and divides by its current rank itself:
//   ΔW = B·(A ⊙ E)/(active + 1e-5) over the active and reserve rows (composition scale: α).
// `rank_state` [2] = [active, reserve] is stored, so a saved adapter loads with the ranks it grew to.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { OptionsOf } from '../../plan/index.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuiltModule, FunctionModule } from './types.js';
import { RankAllocator, type AllocatorSettings } from './rank-allocator.js';
import { IncreAllocator } from './increlora-allocator.js';
import { detach, tap } from './grad-tap.js';
import { setFrozen } from './regenerate.js';

export class SvdLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly E: Param;
  readonly B: Param;
  /** Growing modules: [active, reserve] ranks (a stored buffer); null for AdaLoRA's fixed rows. */
  readonly growth: Param | null;
  /** IncreLoRA's score Σ|ΔW|·|∂L/∂ΔW| / √(out·in), summed over the step's backward passes, and their number. */
  scoreSum = 0;
  scoreCalls = 0;
  /** Scores are taken until the budget is reached. */
  scoring = true;
  private read: { t: tf.Tensor; v: [number, number] } | null = null;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, grows = false) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter']);
    this.E = this.param('lora_E', [rank, 1], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
    this.growth = grows ? this.buffer('rank_state', [2], ['adapter', 'stored']) : null;
  }

  /** [active, reserve] ranks of a growing module. */
  get ranks(): [number, number] {
    if (!this.growth?.loaded) return [this.rank, 0];
    const t = this.growth.value;
    if (this.read?.t !== t) {
      const d = t.dataSync();
      this.read = { t, v: [d[0], d[1]] };
    }
    return this.read.v;
  }

  setRanks(active: number, reserve: number): void {
    setFrozen(this.growth!, Float32Array.of(active, reserve));
  }

  /** The rows in use (active + reserve). */
  get used(): number {
    const [a, r] = this.ranks;
    return this.growth ? a + r : this.rank;
  }

  /** A ⊙ E over the used rows, E's reserve rows frozen (no gradient). */
  private factors(): { a: tf.Tensor2D; b: tf.Tensor2D } {
    const n = this.used;
    const a = tf.slice(this.A.value, [0, 0], [n, this.inDim]) as tf.Tensor2D;
    let e = tf.slice(this.E.value, [0, 0], [n, 1]);
    const [active, reserve] = this.ranks;
    if (this.growth && reserve > 0) {
      const mask = tf.concat([tf.ones([active, 1]), tf.zeros([reserve, 1])]);
      e = tf.add(tf.mul(e, mask), tf.mul(detach(e), tf.sub(1, mask)));
    }
    return { a: tf.mul(a, e) as tf.Tensor2D, b: tf.slice(this.B.value, [0, 0], [this.outDim, n]) as tf.Tensor2D };
  }

  delta(u: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const u2 = tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D;
    const { a, b } = this.factors();
    if (!this.growth) return tf.reshape(tf.matMul(tf.matMul(u2, a, false, true), b, false, true), [...lead, this.outDim]);
    let dw = tf.div(tf.matMul(b, a), this.ranks[0] + 1e-5) as tf.Tensor2D;
    if (ctx?.training && this.scoring) {
      dw = tap(dw, (g, w) => {
        this.scoreSum += tf.tidy(() => tf.sum(tf.mul(tf.abs(w), tf.abs(g))).dataSync()[0]) / Math.sqrt(this.outDim * this.inDim);
        this.scoreCalls++;
        g.dispose();
      });
    }
    return tf.reshape(tf.matMul(u2, dw, false, true), [...lead, this.outDim]);
  }

  /** ‖A·Aᵀ − I‖_F and ‖Bᵀ·B − I‖_F over the used rows: how far Q and P are from orthonormal. */
  orthogonality(): tf.Scalar[] {
    const n = this.used;
    const eye = tf.eye(n);
    const dist = (cov: tf.Tensor) => tf.sqrt(tf.sum(tf.square(tf.sub(cov, eye)))) as tf.Scalar;
    const a = tf.slice(this.A.value, [0, 0], [n, this.inDim]) as tf.Tensor2D;
    const b = tf.slice(this.B.value, [0, 0], [this.outDim, n]) as tf.Tensor2D;
    return [dist(tf.matMul(a, a, false, true)), dist(tf.matMul(b, b, true, false))];
  }
}

/** The rank allocator's settings, from the module's decided options. */
export function svdSettings(o: OptionsOf<'svd'>): AllocatorSettings & { orthReg: number } {
  return {
    initR: o.rank, targetR: o.target_rank, tinit: o.tinit, tfinal: o.tfinal, deltaT: o.delta_t, beta1: o.beta1, beta2: o.beta2, orthReg: o.orth_reg,
  };
}

export const svdModule: FunctionModule<'svd'> = {
  kind: 'svd',
  build(c) {
    const o = c.plan.options;
    const settings = svdSettings(o);
    const grows = o.rank_schedule === 'grow';
    const rows = grows ? o.max_rank! : o.rank;
    const built = buildPerSite(c, (site, uDim) => new SvdLowRank(uDim, site.outDim, rows, grows), (m) => {
      // peft: E = 0 (the module starts as the identity), A and B ~ N(0, 0.02); IncreLoRA the same
      // (its reserve rows' E is set when they join)
      c.init(m.A, { kind: 'normal', std: 0.02 });
      c.init(m.B, { kind: 'normal', std: 0.02 });
      c.init(m.E, o.init === 'random' ? { kind: 'normal', std: 1 } : { kind: 'zeros' });
      if (grows && c.values) m.setRanks(o.rank, 0);
    });
    const mods = built.modules;
    const extraLoss = (): tf.Scalar | null => {
      if (settings.orthReg <= 0 || mods.length === 0) return null;
      const terms = mods.flatMap((m) => m.orthogonality());
      return tf.mul(tf.div(tf.addN(terms), terms.length), settings.orthReg) as tf.Scalar;
    };
    const base: BuiltModule = { attachments: built.attachments, extraLoss };
    if (grows) {
      const allocator = new IncreAllocator(mods, {
        first: o.rank, target: o.target_rank, step: o.grow_by!, top: o.grow_modules as number,
        tinit: o.tinit, deltaT: o.delta_t, beta1: o.beta1, beta2: o.beta2, seed: c.seed, scale: typeof c.plan.scale === 'number' ? c.plan.scale : 1,
      });
      return {
        ...base,
        afterStep: (info) => allocator.update(info.step),
        trainingState: () => allocator.state(),
        restoreTrainingState: (meta, read) => allocator.restore(meta as never, read),
        counts: () => allocator.budgetCounts(),
      };
    }
    const allocator = new RankAllocator(mods, settings);
    return {
      ...base,
      afterStep(info) {
        allocator.update(info.step, info.totalSteps, info.grads);
      },
      trainingState: () => allocator.state(),
      restoreTrainingState: (meta, read) => allocator.restore(meta as { pattern?: boolean[][] | null }, read),
    };
  },
};

