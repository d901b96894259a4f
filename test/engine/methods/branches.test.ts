// Hydra (lowrank branches: parallel+sequential) against the authors' code
// (test/fixtures/reference/hydra, their vision layer with biases): identity at init, y, the
// gradients of all eight branch tensors, and the merge (reparameterize) into W and b.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { BranchedLowRank } from '../../../src/engine/methods/branches.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { mergeIntoBackbone } from '../../../src/engine/merge/fold.js';
import { composition, linearOf, siteRun, llama, plan, logits, maxDiff, randomize } from './helpers.js';

const ref = reference('hydra');
const cfg = ref.case.config;
const NAMES: [string, string][] = [
  ['lora_A', 'par_down_weight'], ['lora_A_bias', 'par_down_bias'], ['lora_B', 'par_up_weight'], ['lora_B_bias', 'par_up_bias'],
  ['seq_lora_A', 'seq_down_weight'], ['seq_lora_A_bias', 'seq_down_bias'], ['seq_lora_B', 'seq_up_weight'], ['seq_lora_B_bias', 'seq_up_bias'],
];

function hydra(suffix: '' | '_init'): BranchedLowRank {
  const m = new BranchedLowRank(cfg.in_features, cfg.out_features, cfg.parallel_rank, cfg.sequential_rank, true);
  m.configureComposition(composition(cfg.scale), cfg.in_features);
  m.nameTree();
  const params = new Map(m.namedParams());
  for (const [ours, theirs] of NAMES) params.get(ours)!.set(ref.t(theirs + suffix));
  return m;
}

test('Hydra: parallel branch from x, sequential from h = x·Wᵀ + b, y = h + s·(par + seq); y_init = base', async () => {
  await useBackend();
  const base = linearOf(ref.t('W'), ref.t('b'));
  assertClose(siteRun(hydra('_init'), base, ref.t('x'), null).y, ref.j('y_init'), 'y_init');
  const { y, grads } = siteRun(hydra(''), base, ref.t('x'), ref.t('G'));
  assertClose(y, ref.j('y'), 'y');
  for (const [ours, theirs] of NAMES) assertClose(grads.get(ours)!, ref.j(`grad_${theirs}`), `dL/d${theirs}`);
});

test('Hydra merges as their reparameterize: W + s·(B_p·A_p + B_s·A_s·W), b + s·(B_s·A_s·b + B_p·a_p + b_p + B_s·a_s + b_s)', async () => {
  await useBackend();
  const fold = hydra('').fold();
  assert.equal(fold.kind, 'affine');
  if (fold.kind !== 'affine') return;
  assert.equal(fold.addsBias, true);
  const { w, b } = fold.apply(ref.t('W') as tf.Tensor2D, ref.t('b') as tf.Tensor1D);
  assertClose(w, ref.j('W_merged'), 'W_merged');
  assertClose(b!, ref.j('b_merged'), 'b_merged');
  const y = tf.add(tf.matMul(ref.t('x') as tf.Tensor2D, w, false, true), b!);
  assertClose(y, ref.j('y_merged'), 'y_merged');
  assert.equal(hydra('').namedParams().reduce((n, [, p]) => n + p.size, 0), ref.case.scalars.trainable_params);
});

test('the hydra preset on LLaMA (no biases, as its NLU variant): identity at init, merged logits equal the unmerged ones', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'hydra', rank: 4, position: ['attn.query', 'attn.value'] }), 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
  randomize(peft, 2, 0.3);
  const before = logits(model, peft);
  assert.ok(maxDiff(before, logits(model, null)) > 1e-2, 'the sequential branch changes the output');
  mergeIntoBackbone(peft);
  assert.ok(maxDiff(logits(model, null), before) < 1e-4, `merged ${maxDiff(logits(model, null), before)}`);
});

test('bias: true cannot merge into a projection without a bias (LLaMA): refused with the reason', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'hydra', rank: 4, bias: true, position: ['attn.query'] }), 0);
  assert.throws(() => mergeIntoBackbone(peft), /cannot be merged: its biases would need .* to have a bias/);
});
