// Shared by the optim tests: the cpu backend, tiny variables, a minimal F32 safetensors reader
// (the project's own reader is written elsewhere), and float comparisons.
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Named float32 variables from plain arrays (1-D unless a shape is given). */
export function vars(spec: Record<string, number[] | { shape: number[]; data: number[] | Float32Array }>): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, v] of Object.entries(spec)) {
    const t = Array.isArray(v) ? tf.tensor1d(v, 'float32') : tf.tensor(v.data, v.shape, 'float32');
    out.set(name, tf.variable(t, true));
    t.dispose();
  }
  return out;
}

/** Gradient maps from plain arrays; the caller disposes them (see disposeMap). */
export function gradMap(spec: Record<string, number[]>): Map<string, tf.Tensor> {
  return new Map(Object.entries(spec).map(([k, v]) => [k, tf.tensor1d(v, 'float32')]));
}

export function disposeMap(m: Map<string, tf.Tensor>): void {
  for (const t of m.values()) t.dispose();
}

export function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Elementwise |a − e| ≤ atol + rtol·|e|. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-6, atol = 1e-7, what = ''): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** Reads an all-F32 safetensors file: u64 LE header length, JSON header, then the data. */
export function readF32Safetensors(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(path);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  const base = 8 + headerLen;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [start, end] } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    assert.equal(dtype, 'F32', `${name} dtype`);
    const data = new Float32Array((end - start) / 4);
    for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(base + start + 4 * i);
    out.set(name, { shape, data });
  }
  return out;
}
