// wasm's BatchMatMul, routed to XNNPACK for transposed and batched products, against cpu.
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../../src/engine/backend/index.js';
import { assertGradParity, assertNoLeak, assertParity, randn } from '../parity.js';

await initBackend('wasm');

test('transposed, batched and batch-broadcast products match cpu, with gradients', async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false], [[7, 5], [7, 3], true, false], [[5, 7], [3, 7], false, true], [[7, 5], [3, 7], true, true],
    [[6, 4, 9, 8], [6, 4, 9, 8], false, true], [[6, 4, 9, 9], [6, 4, 9, 8], false, false], [[3, 8, 5], [3, 8, 6], true, false],
    [[1, 5, 7], [4, 7, 3], false, false], [[4, 5, 7], [7, 3], false, false], [[2, 3, 5, 7], [1, 7, 4], false, false],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const what = `matMul ${sa}×${sb} ta=${ta} tb=${tb}`;
    await assertParity('wasm', what, [randn(sa, 1), randn(sb, 2)], (x, y) => tf.matMul(x, y, ta, tb));
    if (sa.slice(0, -2).join() === sb.slice(0, -2).join()) {
      await assertGradParity('wasm', what, [randn(sa, 1), randn(sb, 2)], (x, y) => tf.matMul(x, y, ta, tb));
    }
  }
});

test('no tensor leaks', async () => {
  const a = tf.randomNormal([4, 6, 5]);
  const b = tf.randomNormal([4, 7, 5]);
  await assertNoLeak('wasm', () => tf.matMul(a, b, false, true).dispose());
  await assertNoLeak('wasm', () => tf.tidy(() => tf.matMul(tf.reshape(a, [24, 5]), tf.reshape(b, [28, 5]), false, true)).dispose());
  tf.dispose([a, b]);
});
