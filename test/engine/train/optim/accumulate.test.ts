import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { GradAccumulator } from '../../../../src/engine/train/optim/accumulate.js';
import { assertClose, disposeMap, gradMap, useCpu, values } from './helpers.js';

await useCpu();

test('mean and sum over micro-batches, inputs disposed as they are added', () => {
  const before = tf.memory().numTensors;
  const acc = new GradAccumulator();
  const g1 = gradMap({ a: [1, 2], b: [10] });
  const g2 = gradMap({ a: [3, 6], b: [20] });
  acc.add(g1);
  acc.add(g2);
  assert.ok([...g1.values(), ...g2.values()].every((t) => t.isDisposed));
  assert.equal(acc.count, 2);
  const mean = acc.take();
  assertClose(values(mean.get('a')!), [2, 4]);
  assertClose(values(mean.get('b')!), [15]);
  assert.equal(acc.count, 0);
  disposeMap(mean);

  acc.add(gradMap({ a: [1, 2] }));
  acc.add(gradMap({ a: [3, 6] }));
  const sum = acc.take('sum');
  assertClose(values(sum.get('a')!), [4, 8]);
  disposeMap(sum);
  acc.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('weights give a weighted mean (e.g. by example count); a missing name counts as zero', () => {
  const acc = new GradAccumulator();
  acc.add(gradMap({ a: [1, 2], b: [4] }), 1);
  acc.add(gradMap({ a: [3, 6] }), 3);
  // a: (1·[1, 2] + 3·[3, 6]) / 4 = [2.5, 5];  b: (1·4 + 0) / 4 = 1
  const r = acc.take();
  assertClose(values(r.get('a')!), [2.5, 5]);
  assertClose(values(r.get('b')!), [1]);
  disposeMap(r);
  assert.throws(() => acc.add(new Map(), 0), /weight/);
});

test('a single micro-batch is handed back as its own copy; the caller’s tensors are freed', () => {
  const before = tf.memory().numTensors;
  const acc = new GradAccumulator();
  const g = gradMap({ a: [5] });
  acc.add(g);
  const r = acc.take();
  assert.ok(g.get('a')!.isDisposed);
  assertClose(values(r.get('a')!), [5]);
  disposeMap(r);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(acc.take().size, 0);
});

test('dispose frees what was accumulated and not taken', () => {
  const before = tf.memory().numTensors;
  const acc = new GradAccumulator();
  acc.add(gradMap({ a: [1, 2, 3] }));
  acc.add(gradMap({ a: [1, 2, 3] }));
  acc.dispose();
  assert.equal(tf.memory().numTensors, before);
});
