// TriAdaptLoRA's rank growth (Liang et al. 2025; the first author's TriAdaptLoRA code): each
// module's score is the change of its core's normalised norm since the last allocation,
//   n = ‖C‖_F / blocks,  score = n − n_prev,
// and every `delta_t` steps after `tinit`, while the total rank is below target_rank · modules,
// the k best-scoring modules gain a block of grow_by ranks, k from the training progress
// c = (t − tinit)/(T − tinit): linear k = ⌊(budget left)·c⌋, nonlinear k = ⌊(budget left)^c⌋,
// at least 1 and at most the number of modules (or a fixed number); ties at the threshold grow
// too. Unlike their code, growth stops at the budget (theirs may overshoot it) and at max_rank.
import type { TriangularLowRank } from './triangular.js';

export interface TriAdaptSettings {
  first: number;
  target: number;
  step: number;
  tinit: number;
  deltaT: number;
  curve: number | 'linear' | 'nonlinear';
  seed: number;
}

export class TriAdaptAllocator {
  readonly targetTotal: number;

  constructor(readonly modules: readonly TriangularLowRank[], readonly s: TriAdaptSettings) {
    this.targetTotal = s.target * modules.length;
    for (const m of modules) m.preNorm = m.rank > 0 && m.Crow.loaded ? m.normalisedNorm() : 2 * Math.sqrt(s.first);
  }

  total(): number {
    return this.modules.reduce((n, m) => n + m.rank, 0);
  }

  /** How many modules grow at step t of T. */
  growCount(step: number, totalSteps: number): number {
    const left = this.targetTotal - this.total();
    let k: number;
    if (typeof this.s.curve === 'number') k = this.s.curve;
    else {
      const c = totalSteps > this.s.tinit ? (step - this.s.tinit) / (totalSteps - this.s.tinit) : 1;
      k = this.s.curve === 'linear' ? Math.trunc(left * c) : Math.trunc(Math.exp(c * Math.log(left)));
    }
    return Math.min(Math.max(k, 1), this.modules.length);
  }

  /** Scores of every module (and the normalised norms become the new reference). */
  scores(): number[] {
    return this.modules.map((m) => {
      const n = m.normalisedNorm();
      const score = n - m.preNorm;
      m.preNorm = n;
      return score;
    });
  }

  /** After the optimizer step `step` (0-based): grow if this is an allocation step. Returns the modules grown. */
  update(step: number, totalSteps: number): number[] {
    if (this.total() >= this.targetTotal || step <= this.s.tinit || step % this.s.deltaT !== 0) return [];
    const k = this.growCount(step, totalSteps);
    const scores = this.scores();
    const threshold = [...scores].sort((a, b) => b - a)[k - 1];
    const order = scores.map((v, i) => i).filter((i) => scores[i] >= threshold).sort((a, b) => scores[b] - scores[a]);
    const grown: number[] = [];
    for (const i of order) {
      const m = this.modules[i];
      if (this.total() >= this.targetTotal || m.rank + 1 > m.maxRank) continue;
      m.grow(Math.min(this.s.step, this.targetTotal - this.total()), this.s.seed);
      grown.push(i);
    }
    return grown;
  }

  state(): { meta: { preNorm: number[] }; arrays: Map<string, Float32Array> } {
    return { meta: { preNorm: this.modules.map((m) => m.preNorm) }, arrays: new Map() };
  }

  restore(meta: { preNorm?: number[] } | null | undefined): void {
    meta?.preNorm?.forEach((v, i) => {
      if (this.modules[i]) this.modules[i].preNorm = v;
    });
  }
}
