// LAME's pieces as the authors' code computes them: the kNN affinity (k nearest others, 0/1,
// not symmetrised), L2-normalised features, and the Laplacian optimisation Y ← softmax(log p +
// λ·W·Y) from Y = p with its energy stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knnAffinity, l2Rows, laplacianOptimization } from '../../../src/engine/adapt/methods/lame.js';

test('kNN affinity: 1 for each row\'s k nearest other rows (self excluded, not symmetrised)', () => {
  // points on a line: 0, 1, 3, 10
  const W = knnAffinity(Float32Array.from([0, 1, 3, 10]), 4, 1, 1);
  assert.deepEqual(Array.from(W), [0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
  const W2 = knnAffinity(Float32Array.from([0, 1, 3]), 3, 1, 5);
  assert.deepEqual(Array.from(W2), [0, 1, 1, 1, 0, 1, 1, 1, 0], 'k larger than the batch: every other row');
});

test('L2 rows', () => {
  assert.deepEqual(Array.from(l2Rows(Float32Array.from([3, 4, 0, 0]), 2, 2), (v) => +v.toFixed(6)), [0.6, 0.8, 0, 0]);
});

test('one step is softmax(log p + λ·W·p); without neighbours Y = p; confident neighbours win', () => {
  const p = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.45, 0.55]);
  const W = Float32Array.from([0, 1, 1, 1, 0, 1, 1, 1, 0]);
  const one = laplacianOptimization(p, W, 3, 2, 1, 1).Y;
  for (let i = 0; i < 3; i++) {
    const z = [0, 1].map((c) => Math.log(p[i * 2 + c] + 1e-10) + [0, 1, 2].reduce((s, j) => s + W[i * 3 + j] * p[j * 2 + c], 0));
    const e = z.map(Math.exp);
    for (let c = 0; c < 2; c++) assert.ok(Math.abs(one[i * 2 + c] - e[c] / (e[0] + e[1])) < 1e-6);
  }
  const alone = laplacianOptimization(p, new Float32Array(9), 3, 2).Y;
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(alone[i] - p[i]) < 1e-6);
  // the uncertain third row follows its two confident neighbours
  const { Y, steps } = laplacianOptimization(p, W, 3, 2);
  assert.ok(Y[4] > Y[5], `row 3 becomes class 0 (${Y[4]} vs ${Y[5]})`);
  assert.ok(steps > 1 && steps <= 100);
});
