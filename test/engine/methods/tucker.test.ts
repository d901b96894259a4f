// The N-mode Tucker product against FLoRA's code (test/fixtures/reference/flora): the linear case
// (2 modes) and the convolution kernel (4 modes, [in, out, kh, kw] then torch's [out, in, kh, kw]).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { tuckerProduct, tuckerParams } from '../../../src/engine/methods/tucker.js';

const ref = reference('flora');

test('Tucker product, 2 modes: ΔWᵀ = P0·G·P1ᵀ, times FLoRA\'s scale, is their ΔW transposed', async () => {
  await useBackend();
  const scale = ref.case.cases.linear.scale;
  const t = tuckerProduct(ref.t('linear.param_G'), [ref.t('linear.param_0') as tf.Tensor2D, ref.t('linear.param_1') as tf.Tensor2D]);
  assert.deepEqual(t.shape, [16, 12]);
  assertClose(tf.mul(tf.transpose(t), scale), ref.j('linear.delta_w'), 'ΔW');
});

test('Tucker product, 4 modes: a conv kernel\'s ΔW [out, in, kh, kw] as FLoRA computes it', async () => {
  await useBackend();
  const scale = ref.case.cases.conv.scale;
  const factors = [0, 1, 2, 3].map((i) => ref.t(`conv.param_${i}`) as tf.Tensor2D);
  const t = tuckerProduct(ref.t('conv.param_G'), factors);
  assert.deepEqual(t.shape, [4, 6, 3, 3]);
  assertClose(tf.mul(tf.transpose(t, [1, 0, 2, 3]), scale), ref.j('conv.delta_w'), 'ΔW');
  assert.equal(tuckerParams([3, 4, 2, 2], [4, 6, 3, 3]), ref.case.cases.conv.trainable_parameters);
  assert.equal(tuckerParams([4, 3], [16, 12]), ref.case.cases.linear.trainable_parameters);
});

test('Tucker product: a core of the wrong rank for a factor is an error naming the mode', () => {
  assert.throws(() => tuckerProduct(tf.zeros([2, 3]), [tf.zeros([5, 2]) as tf.Tensor2D, tf.zeros([4, 2]) as tf.Tensor2D]), /factor 1 is \[4,2\]/);
});
