import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { clipGradNorm, divergedError, globalGradNorm } from '../../../../src/engine/train/optim/clip.js';
import { assertClose, disposeMap, gradMap, useCpu, values } from './helpers.js';

await useCpu();

// ‖[3, 4]‖² + ‖[12]‖² = 9 + 16 + 144 = 169 → global norm 13
const SPEC = { a: [3, 4], b: [12] };

test('global norm is the 2-norm of all gradients together', () => {
  const g = gradMap(SPEC);
  assert.equal(globalGradNorm(g), 13);
  assert.equal(globalGradNorm(new Map()), 0);
  disposeMap(g);
});

test('under max_norm nothing changes and the same tensors come back', () => {
  const g = gradMap(SPEC);
  const r = clipGradNorm(g, 26);
  assert.equal(r.norm, 13);
  assert.equal(r.clipped, false);
  assert.equal(r.grads, g);
  disposeMap(g);
});

test('over max_norm every gradient is scaled by max_norm / (norm + 1e-6); the pre-clip norm is returned', () => {
  const before = tf.memory().numTensors;
  const g = gradMap(SPEC);
  const r = clipGradNorm(g, 6.5);
  assert.equal(r.norm, 13);
  assert.equal(r.clipped, true);
  const s = 6.5 / (13 + 1e-6);
  assertClose(values(r.grads.get('a')!), [3 * s, 4 * s]);
  assertClose(values(r.grads.get('b')!), [12 * s]);
  assert.ok(globalGradNorm(r.grads) < 6.5);
  // The inputs were replaced and disposed; only the result's tensors remain.
  assert.ok([...g.values()].every((t) => t.isDisposed));
  disposeMap(r.grads);
  assert.equal(tf.memory().numTensors, before);
});

test('max_norm null only measures', () => {
  const g = gradMap(SPEC);
  const r = clipGradNorm(g, null);
  assert.deepEqual([r.norm, r.clipped, r.grads === g], [13, false, true]);
  disposeMap(g);
});

test('a non-finite gradient gives a NaN / Infinity norm and leaves the gradients alone', () => {
  const nan = gradMap({ a: [1, Number.NaN], b: [1] });
  const r1 = clipGradNorm(nan, 1);
  assert.ok(Number.isNaN(r1.norm));
  assert.equal(r1.clipped, false);
  assert.equal(r1.grads, nan);
  disposeMap(nan);
  const inf = gradMap({ a: [1, Number.POSITIVE_INFINITY] });
  assert.equal(clipGradNorm(inf, 1).norm, Number.POSITIVE_INFINITY);
  disposeMap(inf);
  // float32 squares overflow: 1e20² is beyond float32 range, so the norm is infinite.
  const huge = gradMap({ a: [1e20] });
  assert.equal(globalGradNorm(huge), Number.POSITIVE_INFINITY);
  disposeMap(huge);
  const e = divergedError(Number.NaN, 17);
  assert.equal(e.code, 'DIVERGED');
  assert.equal(e.exitCode, 1);
  assert.match(e.toLine(), /gradient norm is NaN at step 17/);
});
