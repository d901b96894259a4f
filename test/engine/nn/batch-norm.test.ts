// Batch norm over the channel axis: running statistics (inference, frozen training), the batch's
// own (test-time statistics), α-mixed, a training pass that moves the running statistics as
// torch does (momentum, unbiased variance), and statistics gathered over several batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/fixtures.js';
import { BatchNorm } from '../../../src/engine/nn/batch-norm.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';

const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

async function bn(): Promise<BatchNorm> {
  await useBackend();
  const m = new BatchNorm(3, { eps: 1e-5, momentum: 0.1 });
  m.nameTree();
  m.weight!.set(tf.tensor1d([1, 2, 0.5]));
  m.bias!.set(tf.tensor1d([0, 1, -1]));
  m.runningMean.set(tf.tensor1d([0.1, -0.2, 0.3]));
  m.runningVar.set(tf.tensor1d([1, 4, 0.25]));
  return m;
}

test('the three statistics modes', async () => {
  const m = await bn();
  const x = tf.randomNormal([4, 2, 2, 3], 1, 2, 'float32', 1);
  const eval_ = ForwardContext.plain(false);
  const norm = (mean: tf.Tensor, v: tf.Tensor) => tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(v, 1e-5))), m.weight!.value), m.bias!.value);
  assert.ok(diff(m.forward(x, eval_), norm(m.runningMean.value, m.runningVar.value)) < 1e-5);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  m.stats = 'batch';
  assert.ok(diff(m.forward(x, eval_), norm(mean, variance)) < 1e-5);
  m.stats = { alpha: 0.25 };
  const mix = (a: tf.Tensor, b: tf.Tensor) => tf.add(tf.mul(a, 0.25), tf.mul(b, 0.75));
  assert.ok(diff(m.forward(x, eval_), norm(mix(m.runningMean.value, mean), mix(m.runningVar.value, variance))) < 1e-5);
});

test('training: frozen statistics unless updates is on; then torch\'s momentum update with the unbiased variance', async () => {
  const m = await bn();
  const x = tf.randomNormal([4, 2, 2, 3], 1, 2, 'float32', 2);
  const train = ForwardContext.plain(true);
  const m0 = tf.clone(m.runningMean.value);
  m.forward(x, train);
  assert.equal(diff(m.runningMean.value, m0), 0);
  m.updates = true;
  const v0 = tf.clone(m.runningVar.value);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  m.forward(x, train);
  assert.ok(diff(m.runningMean.value, tf.add(tf.mul(m0, 0.9), tf.mul(mean, 0.1))) < 1e-6);
  assert.ok(diff(m.runningVar.value, tf.add(tf.mul(v0, 0.9), tf.mul(variance, 0.1 * 16 / 15))) < 1e-6);
});

test('gathering statistics over batches averages each batch\'s', async () => {
  const m = await bn();
  const a = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 3);
  const b = tf.randomNormal([2, 2, 2, 3], 2, 3, 'float32', 4);
  m.startCollecting();
  m.forward(a, ForwardContext.plain(false));
  m.forward(b, ForwardContext.plain(false));
  m.finishCollecting();
  const ma = tf.moments(a, [0, 1, 2]);
  const mb = tf.moments(b, [0, 1, 2]);
  assert.ok(diff(m.runningMean.value, tf.div(tf.add(ma.mean, mb.mean), 2)) < 1e-6);
  assert.ok(diff(m.runningVar.value, tf.div(tf.add(ma.variance, mb.variance), 2)) < 1e-5);
});
