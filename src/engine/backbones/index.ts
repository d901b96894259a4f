// Backbones: find a Hugging Face model directory (plain or hub-cache layout), build its family's
// task model, and load its weights by name.
import { readFileSync, statSync } from 'node:fs';
import { findModelDir, isLayersModelDir, layersModelConfig, readModelSizes } from '../../plan/index.js';
import { join, resolve } from 'node:path';
import { PeftError } from '../../errors.js';
import { familyFor } from './registry.js';
import { loadWeights, type LoadReport } from './weights.js';
import { openSafetensorsModel } from '../io/safetensors-index.js';
import { openLayersModelWeights } from '../io/tfjs-weights.js';
import { randomInit } from './random-init.js';
import type { Family, TaskModel, TaskOptions } from './types.js';

export * from './types.js';
export { familyFor, FAMILIES, supportedModelTypes } from './registry.js';
export { loadWeights, countParams } from './weights.js';
export { taskOptionsOf } from './task-options.js';

/**
 * The directory that holds config.json: `path` itself, or for a hub cache folder
 * (`models--org--name`) the snapshot named by refs/main (or the only snapshot).
 */
export function resolveModelDir(path: string): string {
  const found = findModelDir(resolve(path));
  if ('error' in found) throw new PeftError('FILE', found.error, { where: path, hint: found.hint });
  return found.dir;
}

/** A config.json is a few kilobytes; anything past this is not one. */
const MAX_CONFIG_BYTES = 16 << 20;

export function readModelConfig(dir: string): Record<string, unknown> {
  if (isLayersModelDir(dir)) {
    const read = layersModelConfig(dir);
    if ('error' in read) throw new PeftError('FORMAT', read.error, { where: join(dir, 'model.json'), hint: read.hint });
    return read.config;
  }
  const file = join(dir, 'config.json');
  let raw: unknown;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new PeftError('FILE', 'config.json is not a regular file', { where: file, hint: 'a model directory holds config.json as a plain JSON file' });
    if (st.size > MAX_CONFIG_BYTES) throw new PeftError('FORMAT', `config.json is ${st.size} bytes: too large to be one`, { where: file, hint: 'is this the model\'s config.json?' });
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof PeftError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new PeftError('FILE', `cannot read config.json (${code === 'EACCES' ? 'permission denied' : code})`, { where: file, hint: 'check that the model directory is readable' });
    throw new PeftError('FORMAT', `config.json is not valid JSON (${(e as Error).message})`, { where: file, hint: 'fix it or download it again' });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PeftError('FORMAT', 'config.json must hold a JSON object', { where: file, hint: 'a Hugging Face config.json is one JSON object {"model_type": …}' });
  }
  return raw as Record<string, unknown>;
}

/** Throws the first size of config.json that is not a sane positive integer (before anything is built from it). */
export function checkModelConfig(config: Record<string, unknown>, family: Family, file: string): void {
  const bad = readModelSizes(config, family.info).problems[0];
  if (bad) throw new PeftError('BACKBONE', bad.message.replace(/^config\.json: /, ''), { where: file, hint: bad.hint });
}

/** Builds the task model from config.json alone (shapes only: nothing is read or allocated). */
export function buildBackbone(path: string, opts: TaskOptions): { dir: string; model: TaskModel } {
  const dir = resolveModelDir(path);
  const config = readModelConfig(dir);
  const file = join(dir, 'config.json');
  const family = familyFor(config, file);
  checkModelConfig(config, family, file);
  return { dir, model: family.build(config, opts) };
}

/** Builds the task model and loads its weights (lazily read, tensor by tensor). */
export function loadBackbone(path: string, opts: TaskOptions & { seed?: number }): { dir: string; model: TaskModel; report: LoadReport } {
  const { dir, model } = buildBackbone(path, opts);
  if (opts.init === 'random') return { dir, model, report: randomInit(model, opts.seed ?? 0) };
  const source = isLayersModelDir(dir) ? openLayersModelWeights(dir, model.config) : openSafetensorsModel(dir);
  const report = loadWeights(model, source, { seed: opts.seed });
  return { dir, model, report };
}
