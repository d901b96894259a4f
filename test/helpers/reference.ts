// The reference fixtures from the authors' code (test/fixtures/reference/<method>/): case.json and
// tensors.safetensors, read as tensors by name (integers as int32).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '../../src/engine/io/safetensors.js';
import { REPO } from './fixtures.js';

export interface Reference {
  case: Record<string, any>;
  /** The tensor `name` (float32, or int32 for integer dtypes). */
  t(name: string): tf.Tensor;
  /** Its values as a plain array. */
  v(name: string): number[];
  /** Shape and values, for assertClose (which then checks the shape too). */
  j(name: string): { shape: number[]; data: number[] };
  has(name: string): boolean;
  names(): string[];
}

export function reference(method: string): Reference {
  const dir = join(REPO, 'test', 'fixtures', 'reference', method);
  const file = openSafetensors(join(dir, 'tensors.safetensors'));
  const cs = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const t = (name: string): tf.Tensor => {
    const info = file.info(name);
    const integer = !['F32', 'F16', 'BF16', 'F64'].includes(info.dtype);
    return integer ? tf.tensor(file.readInt32(name), info.shape, 'int32') : tf.tensor(file.read(name), info.shape);
  };
  return {
    case: cs, t, v: (n) => Array.from(t(n).dataSync()), j: (n) => ({ shape: file.info(n).shape, data: Array.from(t(n).dataSync()) }),
    has: (n) => file.has(n), names: () => file.names(),
  };
}
