// Test helpers: where ../shared is, reading the fixtures' JSON tensors, and closeness checks
// with the fixtures' tolerance (|a − b| ≤ 1e-4·|b| + 1e-5).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The read-only shared folder next to the repository (tests may read it directly). */
export const SHARED = resolve(REPO, '..', 'shared');
export const HAVE_SHARED = existsSync(join(SHARED, 'fixtures'));
export const SKIP_NO_SHARED = HAVE_SHARED ? false : 'needs ../shared (fixtures are read from there)';

export interface JsonTensor {
  shape: number[];
  data: number[];
}

export function readJson<T = any>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(...parts), 'utf8')) as T;
}

export function fixture(...parts: string[]): string {
  return join(SHARED, 'fixtures', ...parts);
}

export function toTensor(t: JsonTensor, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  return tf.tensor(t.data, t.shape, dtype);
}

/** Max relative error, and asserts every element within |a − b| ≤ rtol·|b| + atol. */
export function assertClose(actual: tf.Tensor | Float32Array | number[], expected: JsonTensor | number[], what: string, rtol = 1e-4, atol = 1e-5): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const e = Array.isArray(expected) ? expected : expected.data;
  if (actual instanceof tf.Tensor && !Array.isArray(expected)) {
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  }
  assert.equal(a.length, e.length, `${what}: length`);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(a[i] - e[i]);
    const bound = rtol * Math.abs(e[i]) + atol;
    if (err / bound > worst) {
      worst = err / bound;
      worstAt = i;
    }
  }
  assert.ok(worst <= 1, `${what}: element ${worstAt} is ${a[worstAt]}, expected ${e[worstAt]} (|err| ${Math.abs(a[worstAt] - e[worstAt])}, ${worst.toFixed(2)}× the tolerance)`);
}

/** Selects a backend as the engine does (PEFT_TEST_BACKEND runs a file's tests on another one). */
export async function useBackend(name = process.env.PEFT_TEST_BACKEND ?? 'cpu'): Promise<void> {
  const { initBackend } = await import('../../src/engine/backend/index.js');
  await initBackend(name);
}
