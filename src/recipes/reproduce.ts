// `peft reproduce PAPER`: the paper's folder (configs/papers/<paper>/), its reproduce.json, and the
// recipe files a scale runs, seeded as it says — planned as one sweep.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { PeftError } from '../errors.js';
import type { PaperManifest, SweepPlan } from '../plan/index.js';
import { suggest } from '../plan/index.js';
import { planSweep } from './sweep.js';

export const MANIFEST = 'reproduce.json';

/** configs/papers/ of this installation (two levels above this module, in src/ and in dist/). */
export function papersDir(): string {
  return fileURLToPath(new URL('../../configs/papers/', import.meta.url));
}

/** The shipped papers (folders with a reproduce.json). */
export function listPapers(): string[] {
  const dir = papersDir();
  return existsSync(dir) ? readdirSync(dir).filter((p) => existsSync(join(dir, p, MANIFEST))).sort() : [];
}

/** A paper by its folder name, or a path to a folder holding reproduce.json. */
export function loadPaper(name: string): { dir: string; manifest: PaperManifest } {
  const dir = existsSync(join(name, MANIFEST)) ? resolve(name) : join(papersDir(), name);
  if (!existsSync(join(dir, MANIFEST))) {
    const known = listPapers();
    const guess = suggest(name, known);
    throw new PeftError('USAGE', `no paper ${name}`, { hint: guess ? `did you mean ${guess}?` : `shipped: ${known.join(', ') || 'none'}` });
  }
  try {
    return { dir, manifest: JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as PaperManifest };
  } catch (e) {
    throw new PeftError('FORMAT', `not valid JSON (${(e as Error).message})`, { where: join(dir, MANIFEST) });
  }
}

export type Scale = 'small' | 'full';

/** The recipe files of a scale, relative paths made absolute. */
export function scaleRecipes(dir: string, m: PaperManifest, scale: Scale): string[] {
  if (scale === 'full') {
    if (!m.scales.full) throw new PeftError('USAGE', 'this paper ships no full-scale recipe set', { hint: 'try --scale small' });
    return m.scales.full.recipes.map((r) => join(dir, r));
  }
  const s = m.scales.small;
  if (!s) throw new PeftError('USAGE', 'this paper ships no small-scale recipe set', { hint: 'try --scale full' });
  return Object.keys(s.tasks).flatMap((task) => s.methods.map((method) => join(dir, s.recipe.replace('{task}', task).replace('{method}', method))));
}

/** The scale's trials as one sweep: every recipe × the scale's seeds. */
export function planReproduction(paper: string, scale: Scale, opts: { sets?: string[]; output?: string } = {}): { dir: string; manifest: PaperManifest; sweep: SweepPlan } {
  const { dir, manifest } = loadPaper(paper);
  const recipes = scaleRecipes(dir, manifest, scale);
  const seeds = scale === 'full' ? manifest.scales.full!.seeds : manifest.scales.small!.seeds;
  const sweep = planSweep({
    recipes,
    sets: opts.sets,
    grid: seeds.length ? [`seed=${seeds.join(',')}`] : [],
    output: opts.output,
    name: `${paper.replace(/[/\\]+$/, '').split(/[/\\]/).pop()}-${scale}`,
    ignoreSections: true,
  });
  return { dir, manifest, sweep };
}
