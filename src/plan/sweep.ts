// The sweep contract: a set of trials, each a recipe with overrides, planned in full before
// anything runs. Recipes produce it (src/recipes/sweep.ts); the engine runs it (src/engine/sweep/).
// Plain JSON: it is what `sweep.json` records and what a queue job carries.
import type { Plan } from './types.js';

/** One override of a trial: a dotted recipe key and its value (`optimizer.lr` → 0.001). */
export interface TrialOverride {
  key: string;
  value: unknown;
}

export interface TrialPlan {
  /** Stable id: a readable slug of the overrides plus a hash of them; the trial's directory name. */
  id: string;
  /** `lr=0.001 rank=8`: the overrides as a person reads them. */
  label: string;
  overrides: TrialOverride[];
  /** The recipe file this trial resolves (a sweep over one recipe: the same for every trial). */
  recipe: string;
  plan: Plan;
  /**
   * The reality-check protocol's evaluation phase: the same overrides on the evaluation split or
   * stream, planned up front so the engine never reads recipes. Run only for the selected trial.
   */
  evaluate?: Plan;
}

/** How trials are compared: the validation metric of the adapter each run kept. */
export interface SweepSelect {
  metric: string;
  mode: 'min' | 'max';
}

export interface SweepPlan {
  /** Hash of everything that decides the trials (plans without output dirs, protocol, selection). */
  id: string;
  /** The recipe's name (or the paper's, for `peft reproduce`). */
  name: string;
  /** The sweep directory: one run directory per trial, sweep.json, results.csv, results.md. */
  dir: string;
  /** The command line's recipe(s), --set and sweep keys, for sweep.json. */
  recipes: string[];
  sets: string[];
  keys: string[];
  select: SweepSelect;
  trials: TrialPlan[];
  /**
   * "Hyperparameters in continual learning: a reality check" (Cha & Cho, 2024): tune on one split
   * or stream (`tune` overrides), then train the selected trial again on another (`evaluate`) and
   * report that run. Null when the sweep reports its trials directly.
   */
  realityCheck: { tune: TrialOverride[]; evaluate: TrialOverride[] } | null;
}

/** The value of a trial override as text: scalars as YAML writes them, the rest as compact JSON. */
export function overrideText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** The shortest suffix of each dotted key that is unique among `keys` (`optimizer.lr` → `lr`). */
export function shortKeys(keys: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keys) {
    const parts = k.split('.');
    let n = 1;
    const clash = (s: string) => keys.some((o) => o !== k && (o === s || o.endsWith('.' + s)));
    while (n < parts.length && clash(parts.slice(-n).join('.'))) n++;
    out.set(k, parts.slice(-n).join('.'));
  }
  return out;
}
