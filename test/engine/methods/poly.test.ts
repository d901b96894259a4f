// The poly module's routing, against a direct computation of Python peft's PolyLayer on small
// numbers: per-row mixtures of skills by the row's task, MHR's blocks routed separately, the
// relaxed-Bernoulli sample only in training (seeded), and bad task ids refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { PolyLoRA } from '../../../src/engine/methods/poly.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { Rng } from '../../../src/engine/data/rng.js';
import { PeftError } from '../../../src/errors.js';

function filled(shape: number[], rng: Rng, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale), shape);
}

/** peft's forward for one row, written out with loops: x [T, in] → [T, out] (before the 1/r scale). */
function reference(x: number[][], A: number[][][][], B: number[][][][], logits: number[][], task: number, S: number, K: number, r: number): number[][] {
  const inDim = x[0].length;
  const outDim = B[0][0][0].length * S;
  const sig = logits[task].map((v) => 1 / (1 + Math.exp(-v)));
  const w = Array.from({ length: S }, (_, q) => {
    const row = sig.slice(q * K, (q + 1) * K);
    const z = row.reduce((a, b) => a + b, 0) + 1e-12;
    return row.map((v) => v / z);
  });
  const Am = Array.from({ length: inDim }, (_, i) => Array.from({ length: r }, (_, k) => {
    const q = Math.floor(i / (inDim / S));
    const d = i % (inDim / S);
    return w[q].reduce((acc, wq, s) => acc + wq * A[q][s][d][k], 0);
  }));
  const Bm = Array.from({ length: r }, (_, k) => Array.from({ length: outDim }, (_, o) => {
    const q = Math.floor(o / (outDim / S));
    const d = o % (outDim / S);
    return w[q].reduce((acc, wq, s) => acc + wq * B[q][s][k][d], 0);
  }));
  return x.map((xt) => {
    const low = Array.from({ length: r }, (_, k) => xt.reduce((a, v, i) => a + v * Am[i][k], 0));
    return Array.from({ length: outDim }, (_, o) => low.reduce((a, v, k) => a + v * Bm[k][o], 0));
  });
}

test('poly and MHR mix each row\'s skills by its task, blocks routed separately (peft\'s PolyLayer)', async () => {
  await useBackend();
  for (const S of [1, 2]) {
    const rng = Rng.fromSeed(S, 3);
    const [inDim, outDim, r, T, K] = [6, 4, 2, 3, 3];
    const m = new PolyLoRA(inDim, outDim, r, T, K, S, 'test');
    m.A.set(filled([S, K, inDim / S, r], rng));
    m.B.set(filled([S, K, r, outDim / S], rng));
    m.logits.set(filled([T, S * K], rng, 3));
    const x = filled([2, 3, inDim], rng);
    const ids = [2, 0];
    const got = m.delta(x, new ForwardContext(new Map(), { training: false, taskIds: ids }));
    const xs = x.arraySync() as number[][][];
    const want = ids.map((t, b) => reference(xs[b], m.A.value.arraySync() as never, m.B.value.arraySync() as never, m.logits.value.arraySync() as never, t, S, K, r));
    assertClose(got, want.flat(2), `delta, n_splits ${S}`);
  }
});

test('training draws a relaxed-Bernoulli routing (seeded: the same seed, the same sample); missing or bad task ids are refused', async () => {
  await useBackend();
  const rng = Rng.fromSeed(1, 1);
  const m = new PolyLoRA(4, 4, 2, 2, 2, 1, 'site.poly');
  m.A.set(filled([1, 2, 4, 2], rng));
  m.B.set(filled([1, 2, 2, 4], rng));
  m.logits.set(filled([2, 2], rng));
  const x = filled([1, 2, 4], rng);
  const ctx = (training: boolean, seed: number) => new ForwardContext(new Map(), { training, seed, taskIds: [1] });
  const a = m.delta(x, ctx(true, 7)).dataSync();
  const b = m.delta(x, ctx(true, 7)).dataSync();
  const c = m.delta(x, ctx(true, 8)).dataSync();
  const e = m.delta(x, ctx(false, 7)).dataSync();
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.notDeepEqual(Array.from(a), Array.from(c));
  assert.notDeepEqual(Array.from(a), Array.from(e));
  assert.throws(() => m.delta(x, new ForwardContext(new Map(), { training: false })), (e: unknown) => e instanceof PeftError && /no task ids/.test(e.message) && e.exitCode === 2);
  assert.throws(() => m.delta(x, new ForwardContext(new Map(), { training: false, taskIds: [2] })), /task id 2 is not a task of this method \(0 … 1\)/);
});
