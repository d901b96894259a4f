// Recipe → Plan: presets expanded into design dimensions, defaults decided, paths made absolute,
// impossible combinations reported with their place. (Stub: filled in by the method compiler.)
import type { Plan, RecipeIssue, ResolvedRecipe } from './types.js';

export interface PlanResult {
  plan: Plan | null;
  issues: RecipeIssue[];
}

export function planRecipe(_r: ResolvedRecipe): PlanResult {
  return { plan: null, issues: [] };
}
