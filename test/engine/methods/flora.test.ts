// FLoRA on a projection (lowrank factorization: tucker) against the authors' code
// (test/fixtures/reference/flora, linear case): zero change at init, y, merged weight, gradients
// of the core and both factors, trainable count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { TuckerLinear } from '../../../src/engine/methods/tucker-modules.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { composition, linearOf, siteRun, llama, plan, logits, maxDiff } from './helpers.js';

const ref = reference('flora');
const c = ref.case.cases.linear;

function flora(core: tf.Tensor): TuckerLinear {
  const m = new TuckerLinear([c.in, c.out], [c.r[0], c.r[1]]);
  m.configureComposition(composition(c.scale), c.in);
  m.nameTree();
  m.core.set(core);
  m.factors[0].set(ref.t('linear.param_0'));
  m.factors[1].set(ref.t('linear.param_1'));
  return m;
}

test('FLoRA (linear): y_init with G = 0, y, merged W and dL/dG, dL/dP0, dL/dP1 as their code', async () => {
  await useBackend();
  const base = linearOf(ref.t('linear.W'), ref.t('linear.bias'));
  assertClose(siteRun(flora(tf.zeros(c.r)), base, ref.t('linear.x'), null).y, ref.j('linear.y_init'), 'y_init');
  const m = flora(ref.t('linear.param_G'));
  const { y, grads } = siteRun(m, base, ref.t('linear.x'), ref.t('linear.G'));
  assertClose(y, ref.j('linear.y'), 'y');
  assertClose(grads.get('param_G')!, ref.j('linear.grad_G'), 'dL/dG');
  assertClose(grads.get('param_0')!, ref.j('linear.grad_param_0'), 'dL/dP0');
  assertClose(grads.get('param_1')!, ref.j('linear.grad_param_1'), 'dL/dP1');
  const fold = m.fold();
  assert.equal(fold.kind, 'delta');
  if (fold.kind === 'delta') assertClose(tf.add(ref.t('linear.W'), tf.transpose(fold.matrix())), ref.j('linear.merged_w'), 'merged W');
});

test('FLoRA on LLaMA: prod(r) + in·r0 + out·r1 per projection, zero at init', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'flora', core: [4, 3] }), 0);
  // q_proj 32 → 32, v_proj 32 → 16, 2 layers
  assert.equal(peft.store.namedParams().reduce((n, [, p]) => n + p.size, 0), 2 * (12 + 32 * 4 + 32 * 3 + 12 + 32 * 4 + 16 * 3));
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
});
