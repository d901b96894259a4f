// Whether a backbone directory holds weights (not only config.json, as the full-size paper
// backbones ship): `peft reproduce --scale full` checks every trial before anything runs.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findModelDir } from '../../plan/index.js';

export function hasWeights(path: string): boolean {
  const found = findModelDir(path);
  if ('error' in found) return false;
  return readdirSync(found.dir).some((f) => /^model.*\.safetensors(\.index\.json)?$/.test(f) || f === 'pytorch_model.bin') || existsSync(join(found.dir, 'model.safetensors'));
}
