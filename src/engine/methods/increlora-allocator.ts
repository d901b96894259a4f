// IncreLoRA's rank growth (Zhang et al. 2023; their RankAllocator.update_and_increase), after
// each optimizer step t (0-based):
//   t = 0: every module gets a reserve block of grow_by ranks (A, B ~ N(0, 0.02) train in advance,
//          E frozen at 1e-5);
//   while the total rank is below target_rank · modules: the module's score
//          ipt = Σ|ΔW|·|∂L/∂ΔW| / √(out·in) (ΔW with its 1/(rank + 1e-5), taken in the backward pass)
//          is smoothed, Ī ← β1·Ī + (1−β1)·ipt, Ū ← β2·Ū + (1−β2)·|ipt − Ī|, s = Ī·Ū;
//          after tinit, every delta_t steps the top min(grow_modules, budget left) modules (ties at
//          the threshold too) grow: their reserve joins (its E now trains) and a new reserve is
//          added after it;
//   at the budget: scores stop and the last reserves' E is set to 0.
// Their trainer puts new ranks into new optimizer groups with their own warmup; here they join the
// one optimizer (Adam's state for them starts at zero, its bias correction is the run's).
import * as tf from '@tensorflow/tfjs-core';
import type { SvdLowRank } from './svd.js';
import { regenerate } from './regenerate.js';

export const RESERVE_E = 1e-5;

export interface IncreSettings {
  first: number;
  target: number;
  step: number;
  top: number;
  tinit: number;
  deltaT: number;
  beta1: number;
  beta2: number;
  seed: number;
  /** The composition's scale (α), for nothing but the counts. */
  scale: number;
}

interface State {
  started: boolean;
  done: boolean;
  ipt: number[];
  unc: number[];
  ranks: [number, number][];
}

export class IncreAllocator {
  readonly targetTotal: number;
  private st: State;
  /** The score threshold of the last growth (the k-th largest importance). */
  lastThreshold: number | null = null;

  constructor(readonly modules: readonly SvdLowRank[], readonly s: IncreSettings) {
    this.targetTotal = s.target * modules.length;
    this.st = { started: false, done: false, ipt: modules.map(() => 0), unc: modules.map(() => 0), ranks: [] };
  }

  total(): number {
    return this.modules.reduce((n, m) => n + m.ranks[0], 0);
  }

  /** Rows [from, from + n) of a module: A, B re-drawn N(0, 0.02) (named by the row), E = e. */
  private fill(m: SvdLowRank, from: number, n: number, e: number): void {
    if (n <= 0) return;
    const setRows = (p: typeof m.A, values: (r: number) => Float32Array, byColumn: boolean) => {
      const v = Float32Array.from(p.value.dataSync());
      const [rows, cols] = p.shape;
      for (let r = from; r < from + n; r++) {
        const row = values(r);
        for (let j = 0; j < row.length; j++) v[byColumn ? j * cols + r : r * cols + j] = row[j];
      }
      p.set(tf.tensor(v, [rows, cols]));
    };
    setRows(m.A, (r) => regenerate(this.s.seed, `${m.A.fullName}.row${r}`, m.inDim, { normal: 0.02 }), false);
    setRows(m.B, (r) => regenerate(this.s.seed, `${m.B.fullName}.col${r}`, m.outDim, { normal: 0.02 }), true);
    setRows(m.E, () => Float32Array.of(e), false);
  }

  /** A reserve after the active ranks (as much as max_rank leaves room for). */
  private addReserve(m: SvdLowRank): void {
    const [active] = m.ranks;
    const reserve = Math.max(0, Math.min(this.s.step, m.rank - active));
    this.fill(m, active, reserve, RESERVE_E);
    m.setRanks(active, reserve);
  }

  /** The scores of the step just taken (then cleared). */
  private takeScores(): number[] {
    return this.modules.map((m) => {
      const v = m.scoreCalls > 0 ? m.scoreSum / m.scoreCalls : 0;
      m.scoreSum = 0;
      m.scoreCalls = 0;
      return v;
    });
  }

  update(step: number): number[] {
    if (this.modules.length === 0) return [];
    const scores = this.takeScores();
    if (!this.st.started) {
      this.st.started = true;
      for (const m of this.modules) this.addReserve(m);
    }
    const grown: number[] = [];
    if (!this.st.done && this.total() < this.targetTotal) {
      const { beta1, beta2 } = this.s;
      scores.forEach((ipt, i) => {
        this.st.ipt[i] = beta1 * this.st.ipt[i] + (1 - beta1) * ipt;
        this.st.unc[i] = beta2 * this.st.unc[i] + (1 - beta2) * Math.abs(ipt - this.st.ipt[i]);
      });
      if (step > this.s.tinit && step % this.s.deltaT === 0) grown.push(...this.increase());
    }
    if (!this.st.done && this.total() >= this.targetTotal) {
      this.st.done = true;
      for (const m of this.modules) {
        m.scoring = false;
        const [active, reserve] = m.ranks;
        this.setE(m, active, reserve, 0);
      }
    }
    this.keepReserveFrozen();
    return grown;
  }

  /** Importance s = Ī·Ū per module. */
  importance(): number[] {
    return this.st.ipt.map((v, i) => v * this.st.unc[i]);
  }

  private increase(): number[] {
    const s = this.importance();
    const k = Math.min(this.s.top, this.targetTotal - this.total(), s.length);
    if (k <= 0) return [];
    const threshold = [...s].sort((a, b) => b - a)[k - 1];
    this.lastThreshold = threshold;
    const grown: number[] = [];
    this.modules.forEach((m, i) => {
      const [active, reserve] = m.ranks;
      if (s[i] < threshold || reserve === 0) return;
      m.setRanks(active + reserve, 0);
      this.addReserve(m);
      grown.push(i);
    });
    return grown;
  }

  private setE(m: SvdLowRank, from: number, n: number, e: number): void {
    if (n <= 0) return;
    const v = Float32Array.from(m.E.value.dataSync());
    v.fill(e, from, from + n);
    m.E.set(tf.tensor(v, [...m.E.shape]));
  }

  /** The frozen reserve E entries back to their value (decoupled weight decay moves even frozen-by-mask entries). */
  private keepReserveFrozen(): void {
    for (const m of this.modules) {
      const [active, reserve] = m.ranks;
      this.setE(m, active, reserve, this.st.done ? 0 : RESERVE_E);
    }
  }

  state(): { meta: Omit<State, 'ranks'> & { ranks: [number, number][] }; arrays: Map<string, Float32Array> } {
    return { meta: { ...this.st, ranks: this.modules.map((m) => m.ranks) }, arrays: new Map() };
  }

  restore(meta: Partial<State> | null | undefined, _read: (name: string) => Float32Array | null): void {
    if (!meta) return;
    this.st = { started: Boolean(meta.started), done: Boolean(meta.done), ipt: meta.ipt ?? this.st.ipt, unc: meta.unc ?? this.st.unc, ranks: [] };
    meta.ranks?.forEach(([a, r], i) => this.modules[i]?.setRanks(a, r));
    if (this.st.done) for (const m of this.modules) m.scoring = false;
  }

  /** Trainable numbers of a module now: active·(in + out + 1) + reserve·(in + out) (their count). */
  static trainable(m: SvdLowRank): number {
    const [active, reserve] = m.ranks;
    return active * (m.inDim + m.outDim + 1) + reserve * (m.inDim + m.outDim);
  }

  /**
   * Trainable numbers once the budget is spent, at an even allocation (target_rank per module,
   * plus the reserve: their count `ranknum·(in+out+1) + grow_by·(in+out)`), and those stored
   * (every reserved row).
   */
  budgetCounts(): { trainable: number; stored: number } {
    let trainable = 0;
    let stored = 0;
    for (const m of this.modules) {
      const reserve = Math.min(this.s.step, Math.max(0, m.rank - this.s.target));
      trainable += this.s.target * (m.inDim + m.outDim + 1) + reserve * (m.inDim + m.outDim);
      stored += m.rank * (m.inDim + m.outDim + 1) + 2;
    }
    return { trainable, stored };
  }
}
