// sweep.json: what a sweep directory holds — the trials (id, label, overrides, parameter counts),
// how they are compared, the reality-check protocol, the evaluation run once one is selected, and
// the peft version that planned it. Written atomically; the run directories hold everything else.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeftError } from '../../errors.js';
import type { SweepPlan, SweepSelect, TrialOverride } from '../../plan/index.js';
import { writeJsonAtomic } from '../io/atomic.js';

export const SWEEP_FILE = 'sweep.json';

export interface SweepTrialEntry {
  id: string;
  label: string;
  overrides: TrialOverride[];
  recipe: string;
  trainable_params: number | null;
  stored_params: number | null;
  trainable_percent: number | null;
}

export interface SweepFile {
  format: 'peft-sweep';
  format_version: 1;
  peft_version: string;
  id: string;
  name: string;
  created: string;
  recipes: string[];
  sets: string[];
  keys: string[];
  select: SweepSelect;
  reality_check: SweepPlan['realityCheck'];
  trials: SweepTrialEntry[];
  /** The reality check's evaluation run: the trial selected on the tuning split, trained again. */
  evaluation: { id: string; label: string; overrides: TrialOverride[]; selected: string; tune_value: number } | null;
}

let version: string | null = null;

/** This installation's peft version (package.json), which a sweep and its workers must share. */
export function peftVersion(): string {
  if (version === null) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    version = pkg.version;
  }
  return version;
}

export function readSweepFile(dir: string): SweepFile {
  const file = join(dir, SWEEP_FILE);
  try {
    const f = JSON.parse(readFileSync(file, 'utf8')) as SweepFile;
    if (f.format !== 'peft-sweep') throw new Error('not a peft sweep file');
    return f;
  } catch (e) {
    throw new PeftError('FORMAT', `not a readable sweep file (${(e as Error).message})`, { where: file, hint: 'a sweep directory is written by peft sweep' });
  }
}

export function writeSweepFile(dir: string, f: SweepFile): void {
  writeJsonAtomic(join(dir, SWEEP_FILE), f);
}

export function hasSweepFile(dir: string): boolean {
  return existsSync(join(dir, SWEEP_FILE));
}

/** The sweep.json of a new sweep (parameter counts from `counts`, when known). */
export function newSweepFile(s: SweepPlan, counts: Map<string, { trainable: number; stored: number; percent: number }>): SweepFile {
  return {
    format: 'peft-sweep',
    format_version: 1,
    peft_version: peftVersion(),
    id: s.id,
    name: s.name,
    created: new Date().toISOString(),
    recipes: s.recipes,
    sets: s.sets,
    keys: s.keys,
    select: s.select,
    reality_check: s.realityCheck,
    trials: s.trials.map((t) => {
      const c = counts.get(t.id);
      return { id: t.id, label: t.label, overrides: t.overrides, recipe: t.recipe, trainable_params: c?.trainable ?? null, stored_params: c?.stored ?? null, trainable_percent: c?.percent ?? null };
    }),
    evaluation: null,
  };
}
