// What a sweep ranges over: a grid (key → values; their product) and a random search space
// (key → distribution; N seeded draws). Values come from the recipe's `sweep:` section, from
// `--grid key=v1,v2` and from a `--space FILE`; every mistake is a PeftError naming its place.
import { parse } from 'yaml';
import { PeftError } from '../errors.js';
import { readRecipeText } from './load.js';
import { suggest } from '../plan/index.js';
import type { TrialOverride } from '../plan/index.js';

/** A distribution of the random search. */
export type Distribution =
  | { choice: unknown[] }
  | { uniform: [number, number] }
  | { log_uniform: [number, number] }
  | { int_uniform: [number, number] };

export const DISTRIBUTIONS = ['choice', 'uniform', 'log_uniform', 'int_uniform'] as const;

export interface SearchSpace {
  grid: Map<string, unknown[]>;
  random: { trials: number; seed: number; space: Map<string, Distribution> } | null;
  /** Where each key was written (`--grid …`, `file:line:col`), for error messages. */
  where: Map<string, string>;
}

/** Splits `a,[b,c],{d: e}` at top-level commas (not inside brackets, braces or quotes). */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim());
}

const GRID_HINT = 'write --grid key=v1,v2,… e.g. --grid optimizer.lr=1e-3,3e-3';

/** `--grid optimizer.lr=1e-3,3e-3` → ['optimizer.lr', [0.001, 0.003]]. Values are YAML. */
export function parseGridArg(arg: string): [string, unknown[]] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new PeftError('USAGE', `--grid ${arg}: no "key=" before the values`, { hint: GRID_HINT });
  const key = arg.slice(0, eq).trim();
  const text = arg.slice(eq + 1).trim();
  if (text === '') throw new PeftError('USAGE', `--grid ${arg}: empty grid (no values for ${key})`, { hint: GRID_HINT });
  const values = splitTopLevel(text).map((v) => {
    if (v === '') throw new PeftError('USAGE', `--grid ${arg}: an empty value between commas`, { hint: GRID_HINT });
    try {
      return parse(v, { version: '1.2' }) as unknown;
    } catch (e) {
      throw new PeftError('USAGE', `--grid ${arg}: "${v}" is not a YAML value (${(e as Error).message.split('\n')[0]})`, { hint: 'quote strings with special characters' });
    }
  });
  return [key, values];
}

/** A distribution from a YAML value, or a one-line error naming `where`. */
export function parseDistribution(key: string, v: unknown, where: string): Distribution {
  const bad = (why: string) => new PeftError('RECIPE', `sweep space ${key}: ${why}`, {
    where,
    hint: 'a distribution is {choice: [a, b]}, {uniform: [lo, hi]}, {log_uniform: [lo, hi]} or {int_uniform: [lo, hi]}',
  });
  if (Array.isArray(v)) {
    if (v.length === 0) throw bad('an empty list of choices');
    return { choice: v };
  }
  if (!v || typeof v !== 'object') throw bad(`expected a distribution, got ${JSON.stringify(v)}`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length !== 1) throw bad('give exactly one of choice, uniform, log_uniform, int_uniform');
  const [kind, arg] = entries[0]!;
  if (kind === 'choice') {
    if (!Array.isArray(arg) || arg.length === 0) throw bad('choice needs a non-empty list');
    return { choice: arg };
  }
  if (!(DISTRIBUTIONS as readonly string[]).includes(kind)) {
    const guess = suggest(kind, DISTRIBUTIONS);
    throw bad(`unknown distribution "${kind}"${guess ? ` (did you mean ${guess}?)` : ''}`);
  }
  if (!Array.isArray(arg) || arg.length !== 2 || !arg.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw bad(`${kind} needs [low, high] numbers`);
  }
  const [lo, hi] = arg as [number, number];
  if (!(lo < hi)) throw bad(`${kind} needs low < high (got [${lo}, ${hi}])`);
  if (kind === 'log_uniform' && lo <= 0) throw bad('log_uniform needs low > 0');
  if (kind === 'int_uniform' && !(Number.isInteger(lo) && Number.isInteger(hi))) throw bad('int_uniform needs integer bounds');
  return { [kind]: [lo, hi] } as Distribution;
}

/** A `--space FILE`: a YAML mapping of recipe keys to distributions. */
export function readSpaceFile(file: string): Map<string, Distribution> {
  const text = readRecipeText(file);
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.2' });
  } catch (e) {
    throw new PeftError('YAML', `not valid YAML (${(e as Error).message.split('\n')[0]})`, { where: file, hint: 'a space file maps keys to distributions: optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}' });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PeftError('RECIPE', 'a space file is a mapping of recipe keys to distributions', { where: file, hint: 'optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}' });
  }
  const out = new Map<string, Distribution>();
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) out.set(k, parseDistribution(k, v, file));
  if (out.size === 0) throw new PeftError('RECIPE', 'the space file is empty', { where: file, hint: 'optimizer.lr: {log_uniform: [1.0e-4, 1.0e-2]}' });
  return out;
}

/** splitmix32 in (0, 1): the random search's draws depend on its seed alone. */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296;
  };
}

/** Rounds a drawn float to 4 significant digits: labels stay readable, draws stay distinct. */
function tidy(x: number): number {
  return Number(x.toPrecision(4));
}

function draw(d: Distribution, u: () => number): unknown {
  if ('choice' in d) return d.choice[Math.min(d.choice.length - 1, Math.floor(u() * d.choice.length))];
  if ('uniform' in d) return tidy(d.uniform[0] + u() * (d.uniform[1] - d.uniform[0]));
  if ('log_uniform' in d) {
    const [lo, hi] = d.log_uniform.map(Math.log) as [number, number];
    return tidy(Math.exp(lo + u() * (hi - lo)));
  }
  const [lo, hi] = d.int_uniform;
  return lo + Math.min(hi - lo, Math.floor(u() * (hi - lo + 1)));
}

/** Every trial's overrides: the grid's product, times the random draws (grid keys first). */
export function expandSpace(space: SearchSpace): TrialOverride[][] {
  let points: TrialOverride[][] = [[]];
  for (const [key, values] of space.grid) {
    points = points.flatMap((p) => values.map((value) => [...p, { key, value }]));
  }
  if (!space.random) return points;
  const u = stream(space.random.seed);
  const draws: TrialOverride[][] = [];
  for (let i = 0; i < space.random.trials; i++) {
    draws.push([...space.random.space].map(([key, d]) => ({ key, value: draw(d, u) })));
  }
  return points.flatMap((p) => draws.map((d) => [...p, ...d]));
}
