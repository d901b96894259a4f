// The KV cache's bookkeeping: slots keep past + new keys/values out of the step's tidy scope and
// free what they replace; cross-attention slots keep their first keys/values; the key mask grows
// with every pass; beam search's reorder gathers rows; dispose frees everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/fixtures.js';
import { KVCache } from '../../../src/engine/generate/index.js';

const kv = (rows: number[], S: number) => {
  const data = rows.flatMap((r) => new Array(2 * S).fill(r));
  return { key: tf.tensor4d(data, [rows.length, 1, S, 2]), value: tf.tensor4d(data.map((x) => -x), [rows.length, 1, S, 2]) };
};

test('KVCache: slots, key mask, reorder and dispose', async () => {
  await useBackend();
  const start = tf.memory().numTensors;
  const cache = new KVCache();
  tf.tidy(() => {
    cache.attention('self', false).store(kv([0, 1, 2], 3));
    cache.attention('cross', true).store(kv([7, 8, 9], 5));
    cache.record({ keyMask: tf.tensor2d([[0, 1, 1], [1, 1, 1], [0, 0, 1]]), prepended: 1 });
    cache.keepEncoder({ last: tf.ones([3, 5, 4]), mask: tf.ones([3, 5]) });
  });
  assert.equal(cache.length, 3);
  assert.equal(cache.prepended, 1);
  assert.equal(cache.slotCount, 2);
  // 2 slots × (key, value) + key mask + encoder (last, mask)
  assert.equal(tf.memory().numTensors - start, 7);
  tf.tidy(() => {
    const self = cache.attention('self', false);
    const next = tf.concat([self.past!.key, kv([0, 1, 2], 1).key], 2) as tf.Tensor4D;
    self.store({ key: next, value: tf.concat([self.past!.value, kv([0, 1, 2], 1).value], 2) as tf.Tensor4D });
    cache.attention('cross', true).store(kv([1, 1, 1], 5)); // ignored: cross-attention keeps its first
    cache.record({ keyMask: tf.ones([3, 1]), prepended: 0 });
  });
  assert.equal(cache.length, 4);
  assert.equal(tf.memory().numTensors - start, 7, 'replaced tensors were freed');
  assert.deepEqual(cache.attention('self', false).past!.key.shape, [3, 1, 4, 2]);
  assert.equal(cache.attention('cross', true).past!.key.dataSync()[0], 7);
  cache.reorder([2, 2, 0]);
  assert.equal(tf.memory().numTensors - start, 7);
  assert.deepEqual(Array.from(cache.keyMask!.dataSync()), [0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1]);
  const key = cache.attention('self', false).past!.key;
  assert.deepEqual([0, 8, 16].map((i) => key.dataSync()[i]), [2, 2, 0]);
  assert.equal(cache.attention('cross', true).past!.key.dataSync()[0], 7, 'cross-attention is the same for every beam of an input');
  cache.dispose();
  assert.equal(tf.memory().numTensors, start);
  assert.equal(cache.length, 0);
});
