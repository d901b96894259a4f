// Step timing as torch_lora.py measures it: warm-up steps, then `reps` repetitions of `steps`
// timed steps; each repetition's median; the figure is the median of those medians (and the best
// one). Slow backends get a time budget: the number of timed steps comes from the warm-up's pace.

export interface TimingPlan {
  warmup: number;
  reps: number;
  /** Timed steps per repetition, at most. */
  steps: number;
  /** Seconds the timed steps may take in all (fewer steps when the warm-up says they would not fit); at least one per rep. */
  budgetSec: number;
}

export interface Timing {
  /** Median over repetitions of each repetition's median step time, seconds. */
  stepMedianS: number;
  /** The best repetition's median. */
  stepBestS: number;
  repMediansS: number[];
  warmup: number;
  stepsPerRep: number;
  reps: number;
  /** Wall time of the warm-up steps, seconds. */
  warmupS: number[];
}

export const FULL_TIMING: TimingPlan = { warmup: 3, reps: 3, steps: 10, budgetSec: 40 };

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  // torch_lora.py takes s[n // 2] (the upper median for an even count); so does this
  return s[Math.floor(n / 2)];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Times `step` (which must finish its work before returning: read a value back). */
export function timeSteps(step: () => void, plan: TimingPlan): Timing {
  const warmupS: number[] = [];
  for (let i = 0; i < plan.warmup; i++) {
    const t0 = performance.now();
    step();
    warmupS.push((performance.now() - t0) / 1000);
  }
  const pace = warmupS.length ? warmupS[warmupS.length - 1] : 0;
  const fit = pace > 0 ? Math.floor(plan.budgetSec / (plan.reps * pace)) : plan.steps;
  const stepsPerRep = Math.max(1, Math.min(plan.steps, fit));
  gc();
  const repMediansS: number[] = [];
  for (let r = 0; r < plan.reps; r++) {
    const ts: number[] = [];
    for (let i = 0; i < stepsPerRep; i++) {
      const t0 = performance.now();
      step();
      ts.push((performance.now() - t0) / 1000);
    }
    repMediansS.push(median(ts));
  }
  return {
    stepMedianS: median(repMediansS), stepBestS: Math.min(...repMediansS), repMediansS,
    warmup: plan.warmup, stepsPerRep, reps: plan.reps, warmupS,
  };
}
