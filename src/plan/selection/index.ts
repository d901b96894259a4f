// The selection table: one entry per criterion (a file each). The planner, the recipe schema,
// `peft methods` and the engine's choosers read this object.
import { MAGNITUDE } from './magnitude.js';
import { RANDOM } from './random.js';
import { HALF } from './half.js';
import { LEARNED } from './learned.js';
import { SENSITIVITY } from './sensitivity.js';
import type { CriterionSpec, DecidedSelectOptions } from './spec.js';

export const CRITERIA = {
  magnitude: MAGNITUDE,
  random: RANDOM,
  half: HALF,
  learned: LEARNED,
  sensitivity: SENSITIVITY,
} as const;

export type SelectCriterion = keyof typeof CRITERIA;
export const CRITERION_NAMES = Object.keys(CRITERIA) as SelectCriterion[];

/** The decided options of criterion C. */
export type SelectOptionsOf<C extends SelectCriterion> = DecidedSelectOptions<(typeof CRITERIA)[C]['options']>;

export function criterionSpec(name: string): CriterionSpec | null {
  return (CRITERIA as unknown as Record<string, CriterionSpec>)[name] ?? null;
}

export { SELECT_OPTIONS } from './options.js';
export type { Reselect, GradientDropout, SelectOptionUse } from './options.js';
export { PROJECTIONS } from './spec.js';
export type { SelectBudget, SelectScope, CriterionSpec } from './spec.js';
