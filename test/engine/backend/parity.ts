// Shared by the backend tests: run the same computation on two backends from the same input
// values and compare outputs (and gradients) elementwise.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An input given as values, made into a tensor on whichever backend is active. */
export interface Input {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  values: Float32Array | Int32Array | Uint8Array;
}

export function randn(shape: number[], seed: number, scale = 1): Input {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (r() * 2 - 1) * scale;
  return { shape, dtype: 'float32', values };
}

export function positive(shape: number[], seed: number, lo = 0.1, hi = 3): Input {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = lo + r() * (hi - lo);
  return { shape, dtype: 'float32', values };
}

export function ints(shape: number[], seed: number, lo: number, hi: number): Input {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) values[i] = lo + Math.floor(r() * (hi - lo));
  return { shape, dtype: 'int32', values };
}

export function bools(shape: number[], seed: number): Input {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Uint8Array(n);
  for (let i = 0; i < n; i++) values[i] = r() < 0.5 ? 1 : 0;
  return { shape, dtype: 'bool', values };
}

export interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

function toTensor(i: Input): tf.Tensor {
  return tf.tensor(i.values.slice(), i.shape, i.dtype);
}

/** Runs f on `backend` over tensors made from `inputs`; returns plain copies of its outputs. */
export async function runOn(
  backend: string,
  inputs: Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Result[]> {
  await tf.setBackend(backend);
  const xs = inputs.map(toTensor);
  const outs = tf.tidy(() => [f(...xs)].flat());
  const res = outs.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: Array.from(t.dataSync() as ArrayLike<number>) }));
  tf.dispose(outs);
  tf.dispose(xs);
  return res;
}

/** |a - b| <= atol + rtol·|b| everywhere (NaN matches NaN), with the same shape and dtype. */
export function assertClose(actual: Result[], expected: Result[], what: string, rtol = 1e-5, atol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: number of outputs`);
  actual.forEach((a, k) => {
    const e = expected[k];
    assert.deepEqual(a.shape, e.shape, `${what}: shape of output ${k}`);
    assert.equal(a.dtype, e.dtype, `${what}: dtype of output ${k}`);
    for (let i = 0; i < e.values.length; i++) {
      const x = a.values[i];
      const y = e.values[i];
      if (Number.isNaN(y) && Number.isNaN(x)) continue;
      if (x === y) continue;
      const ok = Math.abs(x - y) <= atol + rtol * Math.abs(y);
      if (!ok) assert.fail(`${what}: output ${k}[${i}] is ${x}, expected ${y} (shape ${e.shape})`);
    }
  });
}

/** Same computation on `backend` and on cpu, compared. */
export async function assertParity(
  backend: string,
  what: string,
  inputs: Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  rtol = 1e-5,
  atol = 1e-5,
): Promise<void> {
  const expected = await runOn('cpu', inputs, f);
  const actual = await runOn(backend, inputs, f);
  assertClose(actual, expected, `${what} on ${backend}`, rtol, atol);
}

/**
 * Gradients of sum(f(xs) · w) (w fixed random, so every output element matters) with respect
 * to the float inputs, on `backend` and on cpu, compared.
 */
export async function assertGradParity(
  backend: string,
  what: string,
  inputs: Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  rtol = 1e-4,
  atol = 1e-5,
): Promise<void> {
  const floatIdx = inputs.map((x, i) => (x.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
  const g = (...xs: tf.Tensor[]) => {
    const y = f(...xs);
    const w = tf.tensor(randn(y.shape, 99).values, y.shape);
    const grads = tf.grads((...fs: tf.Tensor[]) => {
      const all = xs.slice();
      floatIdx.forEach((idx, j) => (all[idx] = fs[j]));
      return tf.sum(tf.mul(f(...all), w));
    });
    return grads(floatIdx.map((i) => xs[i]));
  };
  const expected = await runOn('cpu', inputs, g);
  const actual = await runOn(backend, inputs, g);
  assertClose(actual, expected, `gradient of ${what} on ${backend}`, rtol, atol);
}

/** Tensors alive after running f n times must not grow after the first run. */
export async function assertNoLeak(backend: string, f: () => void, n = 5): Promise<void> {
  await tf.setBackend(backend);
  f();
  const before = tf.memory().numTensors;
  for (let i = 0; i < n; i++) f();
  assert.equal(tf.memory().numTensors, before, 'live tensors grew');
}
