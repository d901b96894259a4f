import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { Hadamard } from '../../../src/engine/methods/hadamard.js';
import { Linear } from '../../../src/engine/nn/linear.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { normalArray } from '../../../src/engine/random.js';
import { llama, plan, randomize, logits, maxDiff } from './helpers.js';

test('hadamard (LoHa) starts as the identity', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'loha', rank: 4, alpha: 8 }), 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
});

test('hadamard: y = x·Wᵀ + b + (α/r)·x·((W1a·W1b) ⊙ (W2a·W2b))ᵀ', async () => {
  await useBackend();
  const [inD, outD, r, alpha] = [6, 5, 3, 6];
  const base = new Linear(inD, outD);
  base.nameTree();
  base.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 0.5, i), [...p.shape])));
  const m = new Hadamard(inD, outD, r);
  m.configureComposition(plan({ preset: 'loha', rank: r, alpha }).modules[0], inD, alpha / r);
  m.nameTree();
  m.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 0.5, 10 + i), [...p.shape])));
  const x = tf.tensor(normalArray(2 * 4 * inD, 1, 99), [2, 4, inD]);
  const ctx = new ForwardContext(new Map([['site', [m]]]), { training: false });
  const got = ctx.linear('site', x, base);
  const dW = tf.mul(tf.matMul(m.w1a.value as tf.Tensor2D, m.w1b.value as tf.Tensor2D), tf.matMul(m.w2a.value as tf.Tensor2D, m.w2b.value as tf.Tensor2D));
  const w = tf.add(base.weight.value, tf.mul(dW, alpha / r));
  const want = tf.add(tf.reshape(tf.matMul(tf.reshape(x, [-1, inD]) as tf.Tensor2D, w as tf.Tensor2D, false, true), [2, 4, outD]), base.bias!.value);
  assert.ok(maxDiff(got, want) < 1e-5, `max diff ${maxDiff(got, want)}`);
});

test('hadamard on LLaMA: shapes as peft saves them', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'loha', rank: 4 }), 0);
  randomize(peft);
  const shapes = Object.fromEntries(peft.store.namedParams().filter(([n]) => n.startsWith('model.layers.0.self_attn.v_proj')).map(([n, p]) => [n.split('.').pop(), p.shape]));
  assert.deepEqual(shapes, { hada_w1_a: [16, 4], hada_w1_b: [4, 32], hada_w2_a: [16, 4], hada_w2_b: [4, 32] });
  assert.ok(maxDiff(logits(model, peft), logits(model, null)) > 1e-3);
});
