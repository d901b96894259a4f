// Pooling: torch's MaxPool2d(3, 2, 1) (padded cells never win, even with negative inputs), and
// the global average.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/fixtures.js';
import { globalAvgPool, maxPool } from '../../../src/engine/nn/pool.js';

test('max pool with torch padding over negative values, and the global average', async () => {
  await useBackend();
  const x = tf.tensor4d([-5, -4, -3, -2, -1, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16], [1, 4, 4, 1]);
  const y = maxPool(x, 3, 2, 1);
  assert.deepEqual(y.shape, [1, 2, 2, 1]);
  assert.deepEqual(Array.from(y.dataSync()), [-1, -2, -1, -6]);
  assert.deepEqual(Array.from(globalAvgPool(tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2])).dataSync()), [4, 5]);
});
