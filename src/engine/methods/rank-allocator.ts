// AdaLoRA's rank allocator (Zhang et al. 2023, Alg. 1; the behaviour Python peft documents for
// update_and_allocate). After each optimizer step:
//   sensitivity  I = |w ⊙ ∇w|                      for every entry of A, E, B
//   smoothed     Ī ← β1·Ī + (1 − β1)·I
//   uncertainty  Ū ← β2·Ū + (1 − β2)·|I − Ī|
//   score s = Ī ⊙ Ū; a singular triplet i scores s(E_i) + mean_j s(A_ij) + mean_k s(B_ki).
// The budget (total rank over all modules) follows a cubic schedule from init_r·n to
// target_r·n: kept at the start for `tinit` steps, then b(t) = b_T + (b_0 − b_T)(1 − (t − tinit)/
// (T − tfinal − tinit))³, and every `deltaT` steps the triplets with the lowest scores have their
// singular value E_i set to 0 until b(t) remain. At T − tfinal the pattern is frozen; afterwards
// only that pattern is re-applied. Scores live on the CPU: adapters are small.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';

export interface AllocatorSettings {
  initR: number;
  targetR: number;
  tinit: number;
  tfinal: number;
  deltaT: number;
  beta1: number;
  beta2: number;
}

/** What the allocator needs of one SVD-form module. */
export interface SvdFactors {
  readonly A: Param;
  readonly E: Param;
  readonly B: Param;
  readonly rank: number;
  readonly inDim: number;
  readonly outDim: number;
}

interface Ema {
  ipt: Float32Array;
  unc: Float32Array;
}

export class RankAllocator {
  readonly initBudget: number;
  readonly targetBudget: number;
  private ema = new Map<Param, Ema>();
  /** Per module, which triplets are kept (after the last masking). */
  private pattern: boolean[][] | null = null;

  constructor(readonly modules: readonly SvdFactors[], readonly s: AllocatorSettings) {
    this.initBudget = modules.reduce((n, m) => n + m.rank, 0);
    this.targetBudget = s.targetR * modules.length;
  }

  /** The budget at a step, and whether this step masks (peft's budget_schedule). */
  budgetAt(step: number, totalSteps: number): { budget: number; mask: boolean } {
    const { tinit, tfinal, deltaT } = this.s;
    if (step <= tinit) return { budget: this.initBudget, mask: false };
    if (step > totalSteps - tfinal) return { budget: this.targetBudget, mask: true };
    const span = totalSteps - tfinal - tinit;
    const coeff = span > 0 ? 1 - (step - tinit) / span : 0;
    const budget = Math.trunc((this.initBudget - this.targetBudget) * coeff ** 3 + this.targetBudget);
    return { budget, mask: step % deltaT === 0 };
  }

  /** Called after the optimizer step `step` (0-based) with that step's gradients by parameter name. */
  update(step: number, totalSteps: number, grads: ReadonlyMap<string, tf.Tensor>): void {
    if (this.modules.length === 0) return;
    const end = totalSteps - this.s.tfinal;
    if (step < end) {
      this.updateScores(grads);
      const { budget, mask } = this.budgetAt(step, totalSteps);
      if (mask) this.pattern = this.maskToBudget(budget);
    } else if (step === end) {
      this.pattern = this.maskToBudget(this.budgetAt(step, totalSteps).budget);
      this.ema.clear();
    } else if (this.pattern) {
      this.applyPattern(this.pattern);
    }
  }

  /** The scores and the pattern, for a checkpoint: arrays `<module>.<A|E|B>.<ipt|unc>`. */
  state(): { meta: { pattern: boolean[][] | null }; arrays: Map<string, Float32Array> } {
    const arrays = new Map<string, Float32Array>();
    this.modules.forEach((m, j) => {
      for (const [k, p] of [['A', m.A], ['E', m.E], ['B', m.B]] as const) {
        const e = this.ema.get(p);
        if (!e) continue;
        arrays.set(`${j}.${k}.ipt`, Float32Array.from(e.ipt));
        arrays.set(`${j}.${k}.unc`, Float32Array.from(e.unc));
      }
    });
    return { meta: { pattern: this.pattern }, arrays };
  }

  restore(meta: { pattern?: boolean[][] | null } | null | undefined, read: (name: string) => Float32Array | null): void {
    this.ema.clear();
    this.pattern = meta?.pattern ?? null;
    this.modules.forEach((m, j) => {
      for (const [k, p] of [['A', m.A], ['E', m.E], ['B', m.B]] as const) {
        const ipt = read(`${j}.${k}.ipt`);
        const unc = read(`${j}.${k}.unc`);
        if (ipt && unc && ipt.length === p.size && unc.length === p.size) this.ema.set(p, { ipt: Float32Array.from(ipt), unc: Float32Array.from(unc) });
      }
    });
  }

  /** Kept triplets per module (null before the first masking). */
  rankPattern(): boolean[][] | null {
    return this.pattern;
  }

  private updateScores(grads: ReadonlyMap<string, tf.Tensor>): void {
    const { beta1, beta2 } = this.s;
    for (const m of this.modules) {
      for (const p of [m.A, m.E, m.B]) {
        const g = grads.get(p.fullName);
        if (!g) continue;
        const w = p.value.dataSync();
        const gv = g.dataSync();
        let e = this.ema.get(p);
        if (!e) {
          e = { ipt: new Float32Array(w.length), unc: new Float32Array(w.length) };
          this.ema.set(p, e);
        }
        for (let i = 0; i < w.length; i++) {
          const sens = Math.abs(w[i] * gv[i]);
          e.ipt[i] = beta1 * e.ipt[i] + (1 - beta1) * sens;
          e.unc[i] = beta2 * e.unc[i] + (1 - beta2) * Math.abs(sens - e.ipt[i]);
        }
      }
    }
  }

  /** s = Ī ⊙ Ū of a parameter's entries (zeros before any gradient was seen). */
  private scores(p: Param): Float32Array {
    const e = this.ema.get(p);
    const out = new Float32Array(p.size);
    if (e) for (let i = 0; i < out.length; i++) out[i] = e.ipt[i] * e.unc[i];
    return out;
  }

  /** One score per singular triplet of a module: E_i + mean over A's row i + mean over B's column i. */
  tripletScores(m: SvdFactors): Float64Array {
    const r = m.rank;
    const sE = this.scores(m.E);
    const sA = this.scores(m.A);
    const sB = this.scores(m.B);
    const out = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      let a = 0;
      for (let j = 0; j < m.inDim; j++) a += sA[i * m.inDim + j];
      let b = 0;
      for (let k = 0; k < m.outDim; k++) b += sB[k * r + i];
      out[i] = sE[i] + a / m.inDim + b / m.outDim;
    }
    return out;
  }

  /** Zeroes the singular values of the lowest-scoring triplets so that `budget` remain (ties at the threshold go too). */
  private maskToBudget(budget: number): boolean[][] {
    const perModule = this.modules.map((m) => this.tripletScores(m));
    const k = this.initBudget - budget;
    let threshold = -Infinity;
    if (k > 0) {
      const all = perModule.flatMap((s) => Array.from(s)).sort((a, b) => a - b);
      threshold = all[Math.min(k, all.length) - 1];
    }
    const pattern = perModule.map((s) => Array.from(s, (v) => !(v <= threshold)));
    this.applyPattern(pattern);
    return pattern;
  }

  private applyPattern(pattern: boolean[][]): void {
    this.modules.forEach((m, i) => {
      const keep = pattern[i];
      if (keep.every(Boolean)) return;
      const e = Float32Array.from(m.E.value.dataSync());
      keep.forEach((k, j) => {
        if (!k) e[j] = 0;
      });
      m.E.set(tf.tensor(e, [...m.E.shape]));
    });
  }
}
