// VeRA (lowrank basis: shared) as Python peft computes it: Δh = λ_b ⊙ (B_s·(λ_d ⊙ (A_s·x))) with
// the top-left slices of one shared basis, checked against the formula written out here on the
// basis of peft's own VeRA fixture; init, counts and the regenerated basis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, fixture, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { VeraLowRank, SharedBasis } from '../../../src/engine/methods/shared-basis.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { normalArray } from '../../../src/engine/random.js';
import { composition, linearOf, siteRun, llama, plan, logits, maxDiff } from './helpers.js';

const rand = (shape: number[], seed: number, std = 0.5) => tf.tensor(normalArray(shape.reduce((a, b) => a * b, 1), std, seed), shape);

test('VeRA: Δh = λ_b ⊙ (B[:out]·(λ_d ⊙ (A[:, :in]·x))) on peft\'s shared basis (llama-vera fixture)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const file = openSafetensors(fixture('peft-0.13', 'llama-vera', 'adapter_model.safetensors'));
  const basis = new SharedBasis(8, 32, 32, true);
  basis.nameTree();
  basis.A.set(tf.tensor(file.read('base_model.vera_A'), [8, 32]));
  basis.B.set(tf.tensor(file.read('base_model.vera_B'), [32, 8]));
  // a v_proj-like site: 32 → 16 uses B's first 16 rows
  const m = new VeraLowRank(32, 16, 8, basis);
  m.configureComposition(composition(null), 32);
  m.nameTree();
  const [lb, ld] = [rand([16], 1), rand([8], 2)];
  m.lambdaB.set(lb);
  m.lambdaD.set(ld);
  const W = rand([16, 32], 3);
  const x = rand([3, 32], 4, 1);
  const { y } = siteRun(m, linearOf(W, null), x, null);
  const a = tf.slice(basis.A.value, [0, 0], [8, 32]);
  const b = tf.slice(basis.B.value, [0, 0], [16, 8]);
  const want = tf.add(tf.matMul(x as tf.Tensor2D, W as tf.Tensor2D, false, true), tf.mul(tf.matMul(tf.mul(tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D, false, true), ld) as tf.Tensor2D, b as tf.Tensor2D, false, true), lb));
  assertClose(y, { shape: [3, 16], data: Array.from(want.dataSync()) }, 'y');
  // peft's get_delta_weight: λ_b[:, None] ⊙ (B_s @ (λ_d[:, None] ⊙ A_s))
  const fold = m.fold();
  const dw = tf.mul(tf.reshape(lb, [-1, 1]), tf.matMul(b as tf.Tensor2D, tf.mul(tf.reshape(ld, [-1, 1]), a) as tf.Tensor2D));
  if (fold.kind === 'delta') assertClose(tf.transpose(fold.matrix()), { shape: [16, 32], data: Array.from(dw.dataSync()) }, 'ΔW');
});

test('VeRA on LLaMA: λ_b = 0 at init (identity), out + r trainable per site, the basis regenerated from projection_seed', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const method = plan({ preset: 'vera', rank: 8 });
  const peft = injectMethod(model, method, 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
  assert.equal(peft.store.namedParams().reduce((n, [, p]) => n + p.size, 0), 2 * ((32 + 8) + (16 + 8)));
  const basis = (p: typeof peft) => p.store.namedBuffers().map(([n, b]) => [n, b.shape, b.tags.has('stored')] as const);
  assert.deepEqual(basis(peft), [['vera.vera.vera_A', [8, 32], true], ['vera.vera.vera_B', [32, 8], true]], 'peft\'s default: save_projection');
  const a = peft.store.namedBuffers()[0][1].value;
  // U(±√(6/fan_in)) as peft's _kaiming_init draws it
  assert.ok(tf.max(tf.abs(a)).dataSync()[0] <= Math.sqrt(6 / 32) + 1e-6);
  assert.equal(maxDiff(a, injectMethod(llama(), method, 5).store.namedBuffers()[0][1].value), 0, 'the recipe seed does not change the basis');
  const other = injectMethod(llama(), plan({ preset: 'vera', rank: 8, projection_seed: 3, save_projection: false }), 0);
  assert.ok(maxDiff(a, other.store.namedBuffers()[0][1].value) > 0.1);
  assert.ok(other.store.namedBuffers().every(([, b]) => !b.tags.has('stored')));
});
