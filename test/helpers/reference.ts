// Reference fixtures from the authors' code (test/fixtures/reference/<method>/): the tensors of
// tensors.safetensors by name (floats as tf tensors, integers as plain arrays) and case.json.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '../../src/engine/io/safetensors.js';
import { readJson, REPO } from './fixtures.js';

export interface Reference {
  /** A float tensor by name. */
  t(name: string): tf.Tensor;
  /** A float tensor as the fixtures' JSON tensors are ({shape, data}: what assertClose compares with). */
  j(name: string): { shape: number[]; data: number[] };
  /** An integer tensor's values by name. */
  ints(name: string): number[];
  has(name: string): boolean;
  case: Record<string, any>;
}

export function reference(method: string): Reference {
  const dir = join(REPO, 'test', 'fixtures', 'reference', method);
  const file = openSafetensors(join(dir, 'tensors.safetensors'));
  return {
    t: (name) => {
      if (!file.has(name)) throw new Error(`${method}: no tensor ${name}`);
      return tf.tensor(file.read(name), file.info(name).shape);
    },
    j: (name) => {
      if (!file.has(name)) throw new Error(`${method}: no tensor ${name}`);
      return { shape: file.info(name).shape, data: Array.from(file.read(name)) };
    },
    ints: (name) => Array.from(file.readInt32(name)),
    has: (name) => file.has(name),
    case: readJson(dir, 'case.json'),
  };
}
