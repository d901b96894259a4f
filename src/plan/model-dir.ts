// Where a backbone's config.json is: the directory itself, or for a Hugging Face hub cache folder
// (`models--org--name`) the snapshot refs/main names (or the only snapshot). File-system reads
// only; the planner reports the failure as a recipe issue, the engine throws it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isLayersModelDir, layersModelConfig } from './layers-model.js';

export type ModelDirLookup = { dir: string } | { error: string; hint: string };

export function findModelDir(path: string): ModelDirLookup {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    return { error: `backbone directory not found: ${path}`, hint: 'backbone.path must name a Hugging Face model directory (relative paths are relative to the recipe)' };
  }
  if (existsSync(join(path, 'config.json'))) return { dir: path };
  // a TensorFlow.js layers-model directory (layers-model.ts)
  if (existsSync(join(path, 'model.json'))) return { dir: path };
  const snapshots = join(path, 'snapshots');
  if (existsSync(snapshots) && statSync(snapshots).isDirectory()) {
    const ref = join(path, 'refs', 'main');
    const rev = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : null;
    if (rev && existsSync(join(snapshots, rev, 'config.json'))) return { dir: join(snapshots, rev) };
    const revs = readdirSync(snapshots).filter((r) => existsSync(join(snapshots, r, 'config.json'))).sort();
    if (revs.length === 1) return { dir: join(snapshots, revs[0]) };
    if (revs.length > 1) {
      return {
        error: `hub cache folder ${path} has ${revs.length} snapshots and no refs/main naming one`,
        hint: `name one: ${revs.map((r) => join(path, 'snapshots', r)).join(', ')}`,
      };
    }
  }
  return { error: `no config.json in ${path}`, hint: 'a Hugging Face model directory has config.json next to its weights (a TensorFlow.js layers-model has model.json)' };
}

/** The backbone's config: config.json, or a layers-model's stand-in built from its model.json. */
export function readBackboneConfig(dir: string): { config: Record<string, unknown> } | { error: string; hint: string } {
  if (isLayersModelDir(dir)) return layersModelConfig(dir);
  try {
    const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as unknown;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { error: 'config.json must hold a JSON object', hint: 'is this a Hugging Face model directory?' };
    return { config: raw as Record<string, unknown> };
  } catch (e) {
    return { error: `config.json is not valid JSON (${(e as Error).message})`, hint: 'is this a Hugging Face model directory?' };
  }
}
