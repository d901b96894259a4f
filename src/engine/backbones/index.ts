// Backbones: find a Hugging Face model directory (plain or hub-cache layout), build its family's
// task model, and load its weights by name.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PeftError } from '../../errors.js';
import { familyFor } from './registry.js';
import { loadWeights, type LoadReport } from './weights.js';
import { openSafetensorsModel } from '../formats/safetensors-index.js';
import type { TaskModel, TaskOptions } from './types.js';

export * from './types.js';
export { familyFor, FAMILIES, supportedModelTypes } from './registry.js';
export { loadWeights, countParams } from './weights.js';

/**
 * The directory that holds config.json: `path` itself, or for a hub cache folder
 * (`models--org--name`) the snapshot named by refs/main (or the only snapshot).
 */
export function resolveModelDir(path: string): string {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new PeftError('FILE', 'backbone directory not found', { where: path, hint: 'backbone.path must name a Hugging Face model directory' });
  }
  if (existsSync(join(dir, 'config.json'))) return dir;
  const snapshots = join(dir, 'snapshots');
  if (existsSync(snapshots)) {
    const ref = join(dir, 'refs', 'main');
    if (existsSync(ref)) {
      const rev = readFileSync(ref, 'utf8').trim();
      if (existsSync(join(snapshots, rev, 'config.json'))) return join(snapshots, rev);
    }
    const revs = readdirSync(snapshots).filter((r) => existsSync(join(snapshots, r, 'config.json')));
    if (revs.length === 1) return join(snapshots, revs[0]);
    if (revs.length > 1) {
      throw new PeftError('FILE', `hub cache folder has ${revs.length} snapshots and no refs/main`, {
        where: path, hint: `name one: ${revs.map((r) => join(path, 'snapshots', r)).join(', ')}`,
      });
    }
  }
  throw new PeftError('FILE', 'no config.json in the backbone directory', {
    where: path, hint: 'a Hugging Face model directory has config.json next to its weights',
  });
}

export function readModelConfig(dir: string): Record<string, unknown> {
  const file = join(dir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PeftError('FORMAT', `config.json is not valid JSON (${(e as Error).message})`, { where: file });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PeftError('FORMAT', 'config.json must hold a JSON object', { where: file });
  }
  return raw as Record<string, unknown>;
}

/** Builds the task model from config.json alone (shapes only: nothing is read or allocated). */
export function buildBackbone(path: string, opts: TaskOptions): { dir: string; model: TaskModel } {
  const dir = resolveModelDir(path);
  const config = readModelConfig(dir);
  const family = familyFor(config, join(dir, 'config.json'));
  return { dir, model: family.build(config, opts) };
}

/** Builds the task model and loads its weights (lazily read, tensor by tensor). */
export function loadBackbone(path: string, opts: TaskOptions & { seed?: number }): { dir: string; model: TaskModel; report: LoadReport } {
  const { dir, model } = buildBackbone(path, opts);
  const report = loadWeights(model, openSafetensorsModel(dir), { seed: opts.seed });
  return { dir, model, report };
}
