// What one selection criterion's table entry says: its options (with defaults), whether it takes
// a budget and how it spends it, the granularity it selects at, and the paper it comes from.
// Adding a criterion is adding one entry (a file beside this one) and its chooser in
// src/engine/selection.
import type { SelectOptionUse } from './options.js';

/** How many entries a selection may train: a share of the candidates or a count. */
export type SelectBudget = { fraction: number } | { count: number };

/** Whether the budget is spent per weight matrix or over all chosen weights at once. */
export type SelectScope = 'matrix' | 'global';

type ValueOf<X> = X extends SelectOptionUse<infer T> ? T : never;

/** The decided options of a criterion (every option of its table entry, defaulted). */
export type DecidedSelectOptions<U> = { -readonly [K in keyof U]: ValueOf<U[K]> };

export interface CriterionSpec<C extends string = string, U extends Record<string, SelectOptionUse<unknown>> = Record<string, SelectOptionUse<unknown>>> {
  criterion: C;
  /** What it selects, in a few words (`peft methods`, the schema). */
  title: string;
  /** The method that made it known: `magnitude (SaRA)`. */
  knownAs: string;
  paper: string;
  /** Single entries of the weights, or whole tensors. */
  granularity: 'entry' | 'tensor';
  /** The budget's default, or null when the rule itself fixes how much trains (no budget key). */
  budget: { fallback: SelectBudget } | null;
  scope: SelectScope;
  options: U;
  /** Checks across options and the budget; returns problems (key relative to `select`). */
  check?(o: DecidedSelectOptions<U>, budget: SelectBudget | null, given: Record<string, unknown>): { key: string; message: string; hint?: string }[];
}

export function defineCriterion<C extends string, U extends Record<string, SelectOptionUse<unknown>>>(spec: CriterionSpec<C, U>): CriterionSpec<C, U> {
  return spec;
}

/** The projections a selection chooses from unless the recipe names positions (the ones a backbone lacks are skipped). */
export const PROJECTIONS: readonly string[] = [
  'attn.query', 'attn.key', 'attn.value', 'attn.qkv', 'attn.out_proj', 'ffn.gate_proj', 'ffn.up_proj', 'ffn.down_proj',
];
