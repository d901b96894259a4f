// Orthogonal Adaptation's invariants (test/fixtures/reference/orthogonal_adaptation/README.md; no
// authors' code exists): frozen orthonormal rows, disjoint slots orthogonal, zero update at init,
// only lora_B trains (its gradient is s·Gᵀ·(X·Aᵀ)), merged updates orthogonal with no crosstalk
// on each adapter's input subspace, merge order irrelevant, and the capacity error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { orthogonalRows } from '../../../src/engine/methods/orthogonal.js';
import type { PeftModel } from '../../../src/engine/methods/inject.js';
import { normalArray } from '../../../src/engine/random.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { PeftError } from '../../../src/errors.js';
import { llama, logits, maxDiff, plan } from './helpers.js';

const SITE = 'model.layers.0.self_attn.q_proj';
const mm = (a: tf.Tensor, b: tf.Tensor, ta = false, tb = false) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb);
const param = (p: PeftModel, local: string) => p.store.namedParams().find(([n]) => n.startsWith(`${SITE}.`) && n.endsWith(local))![1];
const absMax = (t: tf.Tensor) => tf.max(tf.abs(t)).dataSync()[0];

test('disjoint slots of one seed: orthonormal frozen rows, mutually orthogonal; a basis extends', () => {
  const r = 4;
  const rows = [0, 1, 2].map((slot) => tf.tensor(orthogonalRows(32, r, slot, 7), [r, 32]));
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const g = mm(rows[i], rows[j], false, true);
      assert.ok(absMax(tf.sub(g, i === j ? tf.eye(r) : tf.zeros([r, r]))) < 1e-6, `A_${i} A_${j}ᵀ`);
    }
  }
  assert.throws(() => orthogonalRows(8, 4, 2, 0), /has 8 columns, not 12/);
});

test('orthogonal LoRA: zero at init, only lora_B trains, dL/dB = s·Gᵀ·(X·Aᵀ), trainable count out·r', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const method = plan({ preset: 'lora', rank: 4, alpha: 8, position: ['attn.query'], orthogonal: { slot: 1, seed: 3 } });
  const peft = injectMethod(model, method, 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0, 'B = 0: the base model exactly');
  const t = selectTrainable(peft);
  const names = [...t.params.keys()];
  assert.ok(names.every((n) => n.endsWith('lora_B')), names.join(', '));
  assert.equal([...t.params.values()].reduce((n, p) => n + p.size, 0), 2 * 32 * 4, 'out·r per adapted projection');
  const A = param(peft, 'lora_A');
  const before = Float32Array.from(A.value.dataSync());
  // gradient of L = Σ y⊙G through the adapter alone: y = s·x·Aᵀ·Bᵀ
  const x = tf.tensor(normalArray(5 * 32, 1, 9), [5, 32]);
  const G = tf.tensor(normalArray(5 * 32, 1, 10), [5, 32]);
  const B = param(peft, 'lora_B');
  const adapter = peft.attachments.get(SITE)![0];
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(adapter.transform!(x, tf.zerosLike(G), ForwardContext.plain(false)), G)) as tf.Scalar, [B.variable]);
  const want = tf.mul(mm(G, mm(x, A.value, false, true), true), 2);
  assert.ok(absMax(tf.sub(Object.values(grads)[0], want)) < 1e-4);
  assert.deepEqual(Float32Array.from(A.value.dataSync()), before, 'A is never a variable');
});

test('two orthogonal adapters merged: ΔW_i·ΔW_jᵀ = 0, ⟨ΔW_i, ΔW_j⟩ = 0, no crosstalk on span(A_iᵀ), order irrelevant', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const make = (slot: number, seed: number) => {
    const p = injectMethod(model, plan({ preset: 'lora', rank: 4, alpha: 4, position: ['attn.query'], orthogonal: { slot, seed: 5 } }), 0);
    const B = param(p, 'lora_B');
    B.set(tf.tensor(normalArray(B.size, 0.5, seed), [...B.shape]));
    return p;
  };
  const [a, b] = [make(0, 1), make(1, 2)];
  const delta = (p: PeftModel) => mm(param(p, 'lora_B').value, param(p, 'lora_A').value);
  const [da, db] = [delta(a), delta(b)];
  assert.ok(absMax(mm(da, db, false, true)) < 1e-5, 'ΔW_a ΔW_bᵀ');
  assert.ok(Math.abs(tf.sum(tf.mul(da, db)).dataSync()[0]) < 1e-5, 'Frobenius inner product');
  // x = A_aᵀ c: the merged update acts on it as ΔW_a alone
  const x = mm(tf.tensor(normalArray(3 * 4, 1, 4), [3, 4]), param(a, 'lora_A').value);
  assert.ok(absMax(mm(x, db, false, true)) < 1e-5, 'ΔW_b A_aᵀ = 0');
  assert.ok(absMax(tf.sub(mm(x, tf.add(da, db), false, true), mm(x, da, false, true))) < 1e-5);
  assert.ok(absMax(tf.sub(tf.add(da, db), tf.add(db, da))) === 0);
});

test('capacity: a slot past ⌊in / r⌋ is an error naming how many fit', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  assert.throws(() => injectMethod(model, plan({ preset: 'lora', rank: 8, position: ['attn.query'], orthogonal: { slot: 4 } }), 0), (e: unknown) =>
    e instanceof PeftError && /orthogonal slot 4 at rank 8 needs 40 basis vectors, and .* has 32 dimensions/.test(e.message) && /⌊32 \/ 8⌋ = 4 adapters \(slots 0 … 3\)/.test(e.hint ?? ''));
});
