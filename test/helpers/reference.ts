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
  /** An integer tensor's values. */
  ints(name: string): number[];
  has(name: string): boolean;
  names(): string[];
}

const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

export function reference(method: string): Reference {
  const dir = join(REPO, 'test', 'fixtures', 'reference', method);
  const file = openSafetensors(join(dir, 'tensors.safetensors'));
  const cs = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const known = (name: string) => {
    if (!file.has(name)) throw new Error(`${method}: no tensor ${name}`);
    return file.info(name);
  };
  const values = (name: string): Float32Array | Int32Array => (FLOAT_DTYPES.includes(known(name).dtype) ? file.read(name) : file.readInt32(name));
  const t = (name: string): tf.Tensor => {
    const info = known(name);
    return FLOAT_DTYPES.includes(info.dtype) ? tf.tensor(file.read(name), info.shape) : tf.tensor(file.readInt32(name), info.shape, 'int32');
  };
  return {
    case: cs, t,
    v: (n) => Array.from(values(n)),
    j: (n) => ({ shape: known(n).shape, data: Array.from(values(n)) }),
    ints: (n) => Array.from(file.readInt32(n)),
    has: (n) => file.has(n), names: () => file.names(),
  };
}
