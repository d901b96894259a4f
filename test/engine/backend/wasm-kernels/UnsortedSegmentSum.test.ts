// UnsortedSegmentSum on wasm against cpu, directly and as the gradient of gather.
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../../src/engine/backend/index.js';
import { assertGradParity, assertNoLeak, assertParity, ints, randn } from '../parity.js';

await initBackend('wasm');

test('unsortedSegmentSum: rows, higher-rank rows, ids out of range dropped', async () => {
  await assertParity('wasm', 'segment sum [9,3]', [randn([9, 3], 1), ints([9], 2, -1, 6)], (x, i) => tf.unsortedSegmentSum(x, i, 5));
  await assertParity('wasm', 'segment sum [7,2,3]', [randn([7, 2, 3], 3), ints([7], 4, 0, 4)], (x, i) => tf.unsortedSegmentSum(x, i, 4));
  await assertParity('wasm', 'segment sum int32', [ints([6, 2], 5, -9, 9), ints([6], 6, 0, 3)], (x, i) => tf.unsortedSegmentSum(x, i, 3), 0, 0);
  await assertParity('wasm', 'segment sum empty', [randn([0, 3], 7), ints([0], 8, 0, 3)], (x, i) => tf.unsortedSegmentSum(x, i, 3), 0, 0);
});

test('gradient of gather (embedding lookup) uses it', async () => {
  await assertGradParity('wasm', 'gather axis 0', [randn([50, 8], 9), ints([40], 10, 0, 50)], (x, i) => tf.gather(x, i));
  await assertGradParity('wasm', 'gather axis 1', [randn([3, 20, 4], 11), ints([2, 6], 12, 0, 20)], (x, i) => tf.gather(x, i, 1));
  await assertGradParity('wasm', 'segment sum', [randn([9, 3], 13), ints([9], 14, 0, 5)], (x, i) => tf.unsortedSegmentSum(x, i, 5));
});

test('no tensor leaks', async () => {
  const x = tf.randomNormal([30, 4]);
  const ids = tf.tensor1d([0, 2, 2, 5, 1], 'int32');
  await assertNoLeak('wasm', () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(x)).dispose());
  tf.dispose([x, ids]);
});
