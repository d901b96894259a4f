// NOLA (lowrank basis: combination) against the authors' code (test/fixtures/reference/nola): the
// GPT-2/LLaMA layer (frozen offset A0, zero coefficients at init) and the ViT layer (bases stored,
// coefficients 1/k at init), forward, merged weight and the coefficients' gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { NolaLowRank } from '../../../src/engine/methods/random-combination.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { composition, linearOf, siteRun, llama, plan, logits, maxDiff } from './helpers.js';

const ref = reference('nola');

function nola(prefix: 'lora' | 'vit', init = false): { m: NolaLowRank; y: tf.Tensor; grads: Map<string, tf.Tensor>; base: ReturnType<typeof linearOf> } {
  const c = ref.case.cases[prefix];
  const [k, l] = prefix === 'lora' ? [c.num_basis_A, c.num_basis_B] : [c.ka, c.kb];
  const m = new NolaLowRank(c.in_features, c.out_features, c.rank, k, l, false);
  m.configureComposition(composition(c.scale), c.in_features);
  m.nameTree();
  if (prefix === 'lora') {
    m.offset.set(ref.t('lora.A_weight'));
    m.basesA.set(ref.t('lora.A_bases'));
    m.basesB.set(ref.t('lora.B_bases'));
  } else {
    // their ViT layout: A [ka, in, r], B [kb, r, out]; ours [k, r, in], [l, out, r]; no offset
    m.offset.set(tf.zeros([c.rank, c.in_features]));
    m.basesA.set(tf.transpose(ref.t('vit.A_bases'), [0, 2, 1]));
    m.basesB.set(tf.transpose(ref.t('vit.B_bases'), [0, 2, 1]));
  }
  const coef = (name: string) => (init ? (prefix === 'lora' ? tf.zeros([name === 'alpha' ? k : l]) : ref.t(`vit.${name}_init`)) : ref.t(`${prefix}.${name}`));
  m.alpha.set(coef('alpha'));
  m.beta.set(coef('beta'));
  const base = linearOf(ref.t(`${prefix}.W`), ref.t(`${prefix}.bias`));
  const { y, grads } = siteRun(m, base, ref.t(`${prefix}.x`), init ? null : ref.t(`${prefix}.G`));
  return { m, y, grads, base };
}

test('NOLA (GPT-2/LLaMA layer): A = A0 + Σα_i A_i, B = Σβ_j B_j, y, ΔW and dL/dα, dL/dβ as the authors\' code', async () => {
  await useBackend();
  const { m, y, grads } = nola('lora');
  const { a, b } = m.factors();
  assertClose(a, ref.j('lora.A_eff'), 'A_eff');
  assertClose(b, ref.j('lora.B_eff'), 'B_eff');
  assertClose(y, ref.j('lora.y'), 'y');
  assertClose(grads.get('nola_alpha')!, ref.v('lora.grad_alpha'), 'dL/dα');
  assertClose(grads.get('nola_beta')!, ref.v('lora.grad_beta'), 'dL/dβ');
  const fold = m.fold();
  assert.equal(fold.kind, 'delta');
  if (fold.kind === 'delta') assertClose(tf.transpose(fold.matrix()), ref.v('lora.delta_w'), 'ΔW');
});

test('NOLA at init (coefficients 0): the output is the base layer\'s, and only β gets a gradient', async () => {
  await useBackend();
  const { y } = nola('lora', true);
  assertClose(y, ref.v('lora.y_init'), 'y_init');
  // with α = β = 0 at init, dL/dα = 0 (B = 0) and dL/dβ ≠ 0 (A = A0 ≠ 0): the authors' reason for A0
  const c = ref.case.cases.lora;
  const m = new NolaLowRank(c.in_features, c.out_features, c.rank, 8, 8, false);
  m.configureComposition(composition(c.scale), c.in_features);
  m.nameTree();
  m.offset.set(ref.t('lora.A_weight'));
  m.basesA.set(ref.t('lora.A_bases'));
  m.basesB.set(ref.t('lora.B_bases'));
  m.alpha.set(tf.zeros([8]));
  m.beta.set(tf.zeros([8]));
  const { grads } = siteRun(m, linearOf(ref.t('lora.W'), ref.t('lora.bias')), ref.t('lora.x'), ref.t('lora.G'));
  assert.equal(tf.max(tf.abs(grads.get('nola_alpha')!)).dataSync()[0], 0);
  assert.ok(tf.max(tf.abs(grads.get('nola_beta')!)).dataSync()[0] > 1e-3);
});

test('NOLA (ViT layer: bases stored, coefficients 1/k at init, scale 1/rank): y, y_init and gradients', async () => {
  await useBackend();
  const { y, grads, m } = nola('vit');
  assertClose(y, ref.v('vit.y'), 'y');
  assertClose(grads.get('nola_alpha')!, ref.v('vit.grad_alpha'), 'dL/dα');
  assertClose(grads.get('nola_beta')!, ref.v('vit.grad_beta'), 'dL/dβ');
  const fold = m.fold();
  if (fold.kind === 'delta') assertClose(tf.transpose(fold.matrix()), ref.v('vit.delta_w'), 'ΔW');
  assertClose(nola('vit', true).y, ref.v('vit.y_init'), 'y_init (not the base output: the ViT layer starts with an update)');
});

test('NOLA trainable count: k + l per adapted weight; bases regenerated from the seed, not stored', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const method = plan({ preset: 'nola', rank: 4, num_basis: [6, 5] });
  const peft = injectMethod(model, method, 0);
  const sites = peft.modules[0].sites.length;
  assert.equal(peft.store.namedParams().reduce((n, [, p]) => n + p.size, 0), sites * (6 + 5));
  assert.ok(peft.store.namedBuffers().every(([, b]) => !b.tags.has('stored')), 'no basis is stored by default');
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0, 'starts as the backbone');
  // the same seed regenerates the same bases; another seed gives others
  const again = injectMethod(llama(), method, 7);
  const other = injectMethod(llama(), plan({ preset: 'nola', rank: 4, num_basis: [6, 5], projection_seed: 1 }), 0);
  const bases = (p: typeof peft) => p.store.namedBuffers().find(([n]) => n.endsWith('nola_A_bases'))![1].value;
  assert.equal(maxDiff(bases(peft), bases(again)), 0);
  assert.ok(maxDiff(bases(peft), bases(other)) > 0.1);
});
