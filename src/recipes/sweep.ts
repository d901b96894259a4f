// A sweep command line (recipe, --set, --grid, --random/--space, --output) and the recipe's
// `sweep:` section → a SweepPlan: every trial planned and checked before anything is written,
// so a bad key or value is one error line and no sweep directory. The same command always
// yields the same sweep id and directory (re-running it resumes).
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { PeftError } from '../errors.js';
import { overrideText, shortKeys, suggest } from '../plan/index.js';
import type { Plan, SweepPlan, SweepSelect, TrialOverride, TrialPlan } from '../plan/index.js';
import { resolveRecipe } from './resolve.js';
import { schemaAt } from './schema.js';
import { displayPath } from './source.js';
import { validateRecipeFile } from './validate.js';
import type { RecipeIssue } from './types.js';
import { expandSpace, parseDistribution, parseGridArg, readSpaceFile, type Distribution, type SearchSpace } from './sweep-space.js';

export interface SweepRequest {
  /** One recipe (`peft sweep`) or several (`peft reproduce`: one trial set per recipe). */
  recipes: string[];
  /** --set, applied to every trial before its own overrides. */
  sets?: string[];
  /** --grid key=v1,v2 (repeatable; a key given here replaces the recipe's). */
  grid?: string[];
  /** --random N with --space FILE (replace the recipe's random section). */
  random?: number;
  space?: string;
  /** --output DIR: the parent of the sweep directory (default: the recipe's output.dir). */
  output?: string;
  /** The sweep's name (default: the first recipe's name). */
  name?: string;
  /** Trials from the recipe files alone, their own `sweep:` sections ignored (`peft reproduce`). */
  ignoreSections?: boolean;
}

/** Keys a sweep may not vary: they name the sweep itself or its files. */
const FIXED_KEYS = new Set(['extends', 'sweep', 'name', 'output']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/** Throws when `key` names no recipe key (with a did-you-mean from the keys at its parent). */
export function checkSweepKey(key: string, where: string): void {
  const path = key.split('.');
  if (path.some((s) => s === '') || FIXED_KEYS.has(path[0]!)) {
    throw new PeftError('USAGE', `cannot sweep over ${key}`, { where, hint: 'sweep keys are recipe keys such as optimizer.lr or method.rank (not extends, sweep, name, output)' });
  }
  for (let i = 1; i <= path.length; i++) {
    if (schemaAt(path.slice(0, i))) continue;
    const parent = schemaAt(path.slice(0, i - 1));
    const known = Object.keys(parent?.properties ?? {});
    const guess = suggest(path[i - 1]!, known);
    const fixed = guess ? [...path.slice(0, i - 1), guess].join('.') : undefined;
    throw new PeftError('USAGE', `unknown sweep key ${key}: the recipe has no ${path.slice(0, i).join('.')}`, {
      where,
      hint: fixed ? `did you mean ${fixed}?` : known.length ? `keys there: ${known.slice(0, 12).join(', ')}` : 'peft schema lists the recipe keys',
    });
  }
}

function sectionSpace(section: Obj, where: (path: string[]) => string): SearchSpace {
  const space: SearchSpace = { grid: new Map(), random: null, where: new Map() };
  if (isObj(section.grid)) {
    for (const [k, v] of Object.entries(section.grid)) {
      space.grid.set(k, Array.isArray(v) ? v : [v]);
      space.where.set(k, where(['sweep', 'grid', k]));
    }
  }
  if (isObj(section.random)) {
    const r = section.random;
    const dist = new Map<string, Distribution>();
    for (const [k, v] of Object.entries(isObj(r.space) ? r.space : {})) {
      const at = where(['sweep', 'random', 'space', k]);
      dist.set(k, parseDistribution(k, v, at));
      space.where.set(k, at);
    }
    space.random = { trials: typeof r.trials === 'number' ? r.trials : 1, seed: typeof r.seed === 'number' ? r.seed : 0, space: dist };
  }
  return space;
}

function overridesOf(o: unknown): TrialOverride[] {
  return isObj(o) ? Object.entries(o).map(([key, value]) => ({ key, value })) : [];
}

/** `key=<value as YAML flow>`: a trial override as a --set argument. */
export function setArg(o: TrialOverride): string {
  return `${o.key}=${JSON.stringify(o.value)}`;
}

/** An issue on one line: `where  path  message (hint: …)`. */
function issueText(i: RecipeIssue): string {
  return [i.where, i.path, i.message + (i.hint ? ` (hint: ${i.hint})` : '')].filter((p) => p !== '').join('  ').replace(/\s*\n\s*/g, ' ');
}

function hash(v: unknown, n: number): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, n);
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9.=_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60);
}

/** Plans one trial; a recipe problem becomes one line naming the trial. */
function planTrial(recipe: string, sets: string[], label: string): Plan {
  const v = validateRecipeFile(recipe, { sets });
  if (v.plan && v.issues.length === 0) return v.plan;
  const first = v.issues[0];
  const more = v.issues.length > 1 ? ` (+${v.issues.length - 1} more)` : '';
  throw new PeftError('RECIPE', `trial ${label || displayPath(recipe)}: ${first ? issueText(first) : 'invalid recipe'}${more}`, {
    hint: `check it alone: peft validate ${displayPath(recipe)}${sets.map((s) => ` --set '${s}'`).join('')}`,
  });
}

/** Lower is better for losses, higher for everything else evaluation computes. */
function modeOf(metric: string): SweepSelect['mode'] {
  return metric === 'loss' || metric === 'perplexity' ? 'min' : 'max';
}

/** The SweepPlan of a command line; throws before anything is written when any trial is bad. */
export function planSweep(req: SweepRequest): SweepPlan {
  if (req.recipes.length === 0) throw new PeftError('USAGE', 'name a recipe to sweep', { hint: 'peft sweep recipe.yaml --grid optimizer.lr=1e-3,3e-3' });
  const sets = req.sets ?? [];
  const first = resolveRecipe(req.recipes[0]!, { sets });
  const section = req.ignoreSections ? {} : isObj(first.doc.sweep) ? first.doc.sweep : {};
  const space = sectionSpace(section, (p) => first.locate(p));
  for (const arg of req.grid ?? []) {
    const [key, values] = parseGridArg(arg);
    space.grid.set(key, values);
    space.where.set(key, `--grid ${arg}`);
  }
  if (req.random !== undefined || req.space !== undefined) {
    if (req.space === undefined) throw new PeftError('USAGE', '--random N needs --space FILE (the distributions to draw from)', { hint: 'peft sweep r.yaml --random 8 --space space.yaml' });
    const dist = readSpaceFile(req.space);
    for (const k of dist.keys()) space.where.set(k, req.space);
    space.random = { trials: req.random ?? 1, seed: space.random?.seed ?? 0, space: dist };
  }
  if (space.random && (!Number.isInteger(space.random.trials) || space.random.trials < 1)) {
    throw new PeftError('USAGE', `--random ${space.random.trials}: the number of random trials must be an integer ≥ 1`, { hint: 'peft sweep r.yaml --random 8 --space space.yaml' });
  }
  for (const key of space.random?.space.keys() ?? []) {
    if (space.grid.has(key)) throw new PeftError('USAGE', `${key} is both in the grid and in the random space`, { where: space.where.get(key), hint: 'sweep each key one way: drop it from the grid or from the space' });
  }
  for (const [key, values] of space.grid) {
    if (values.length === 0) throw new PeftError('USAGE', `empty grid: sweep key ${key} has no values`, { where: space.where.get(key), hint: `give it at least one value: --grid ${key}=a,b` });
  }
  const rc = isObj(section.reality_check) ? { tune: overridesOf(section.reality_check.tune), evaluate: overridesOf(section.reality_check.evaluate) } : null;
  const keys = [...space.grid.keys(), ...(space.random ? space.random.space.keys() : [])];
  for (const k of keys) checkSweepKey(k, space.where.get(k) ?? 'sweep');
  for (const o of [...(rc?.tune ?? []), ...(rc?.evaluate ?? [])]) checkSweepKey(o.key, first.locate(['sweep', 'reality_check']));
  const points = expandSpace(space);
  if (req.recipes.length === 1 && keys.length === 0) {
    throw new PeftError('USAGE', `nothing to sweep: ${displayPath(req.recipes[0]!)} has no sweep: section and no --grid or --random was given`, {
      hint: 'add --grid optimizer.lr=1e-3,3e-3 (or a sweep: {grid: …} section to the recipe)',
    });
  }
  const short = shortKeys(keys);
  const tuneSets = (rc?.tune ?? []).map(setArg);
  const evalSets = (rc?.evaluate ?? []).map(setArg);
  const trials: TrialPlan[] = [];
  const ids = new Set<string>();
  for (const recipe of req.recipes) {
    for (const overrides of points) {
      const own = overrides.map((o) => `${short.get(o.key) ?? o.key}=${overrideText(o.value)}`).join(' ');
      const stem = req.recipes.length > 1 ? basename(recipe).replace(/\.ya?ml$/i, '') : '';
      const label = [stem, own].filter(Boolean).join(' ');
      const trialSets = [...sets, ...tuneSets, ...overrides.map(setArg)];
      const plan = planTrial(recipe, trialSets, label);
      const evaluate = rc ? planTrial(recipe, [...sets, ...evalSets, ...overrides.map(setArg)], `${label} (evaluation phase)`) : undefined;
      let id = slug(label) || 'trial';
      if (overrides.length > 0) id = `${id}-${hash(overrides, 6)}`;
      if (ids.has(id)) throw new PeftError('USAGE', `two trials are the same: ${label}`, { hint: 'a grid or choice lists one value twice' });
      ids.add(id);
      trials.push({ id, label: label || plan.name, overrides, recipe: resolve(recipe), plan, ...(evaluate ? { evaluate } : {}) });
    }
  }
  const p0 = trials[0]!.plan;
  const selectDoc = isObj(section.select) ? section.select : {};
  const metric = typeof selectDoc.metric === 'string' ? selectDoc.metric : (p0.eval.metrics[0] ?? 'loss');
  const select: SweepSelect = { metric, mode: selectDoc.mode === 'min' || selectDoc.mode === 'max' ? selectDoc.mode : modeOf(metric) };
  const name = req.name ?? p0.name;
  const content = trials.map((t) => ({ id: t.id, plan: { ...t.plan, output: null }, evaluate: t.evaluate ? { ...t.evaluate, output: null } : null }));
  const id = hash({ content, select, rc }, 10);
  const parent = req.output ? resolve(req.output) : p0.output.dir;
  return {
    id, name, dir: join(parent, name, `sweep-${id}`), recipes: req.recipes.map((r) => resolve(r)), sets, keys, select, trials, realityCheck: rc,
  };
}
