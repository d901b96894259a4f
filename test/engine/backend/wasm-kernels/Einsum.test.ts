// Einsum on wasm against cpu.
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../../src/engine/backend/index.js';
import { assertNoLeak, assertParity, randn } from '../parity.js';

await initBackend('wasm');

test('einsum: products, contractions, transposes, reductions', async () => {
  const cases: [string, number[][]][] = [
    ['ij,jk->ik', [[3, 4], [4, 5]]],
    ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
    ['ij->ji', [[3, 4]]],
    ['ij->', [[3, 4]]],
    ['i,i->', [[6], [6]]],
    ['i,j->ij', [[3], [4]]],
    ['bhqd,bhkd->bhqk', [[2, 2, 3, 4], [2, 2, 5, 4]]],
    ['ij,ij->ij', [[3, 4], [3, 4]]],
  ];
  for (const [eq, shapes] of cases) {
    await assertParity('wasm', `einsum ${eq}`, shapes.map((s, i) => randn(s, 10 + i)), (...xs) => tf.einsum(eq, ...xs));
  }
});

test('no tensor leaks', async () => {
  const a = tf.randomNormal([3, 4]);
  const b = tf.randomNormal([4, 5]);
  await assertNoLeak('wasm', () => tf.einsum('ij,jk->ik', a, b).dispose());
  await assertNoLeak('wasm', () => tf.einsum('ij->ij', a).dispose());
  tf.dispose([a, b]);
});
