// LoLDU (lowrank factorization: ldu) against the authors' code (test/fixtures/reference/loldu):
// the LU/LDU factors of the weight, zero change at init, forward, merged weight, gradients of the
// diagonal and the scale; and the storage claim: only z and s are stored, L and U are derived again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { LduLowRank, ldu } from '../../../src/engine/methods/ldu.js';
import { mat } from '../../../src/engine/methods/linalg.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { composition, linearOf, siteRun, llama, plan, logits, maxDiff } from './helpers.js';

const ref = reference('loldu');

for (const c of ['wide', 'tall'] as const) {
  test(`LoLDU ${c}: P·L, D and U from the weight's LU with partial pivoting, as torch.linalg.lu`, async () => {
    await useBackend();
    const cs = ref.case.cases[c];
    const w = ref.t(`${c}.W`);
    const { lower, d, upper } = ldu(mat(cs.out_features, cs.in_features, w.dataSync()), cs.rank);
    // their P [out, out] and L [out, r]: P·L is what multiplies
    const pl = tf.matMul(ref.t(`${c}.P`) as tf.Tensor2D, ref.t(`${c}.L`) as tf.Tensor2D);
    assertClose(lower, Array.from(pl.dataSync()), 'P·L');
    assertClose(d, ref.v(`${c}.D_init`), 'D');
    assertClose(upper, ref.v(`${c}.U`), 'U');
  });

  test(`LoLDU ${c}: identity at init, y, merged weight and dL/dz, dL/ds`, async () => {
    await useBackend();
    const cs = ref.case.cases[c];
    const m = new LduLowRank(cs.in_features, cs.out_features, cs.rank, cs.scaling_factor);
    m.configureComposition(composition(null), cs.in_features);
    m.nameTree();
    const pl = tf.matMul(ref.t(`${c}.P`) as tf.Tensor2D, ref.t(`${c}.L`) as tf.Tensor2D);
    m.lower.set(pl);
    m.upper.set(ref.t(`${c}.U`));
    m.z0.set(ref.t(`${c}.D_init`));
    m.scaling.set(tf.reshape(ref.t(`${c}.scaling_factor`), [1]));
    const base = linearOf(ref.t(`${c}.W`), ref.t(`${c}.bias`));
    m.z.set(ref.t(`${c}.D_init`));
    assertClose(siteRun(m, base, ref.t(`${c}.x`), null).y, ref.j(`${c}.y_init`), 'y_init');
    m.z.set(ref.t(`${c}.vector_z`));
    const { y, grads } = siteRun(m, base, ref.t(`${c}.x`), ref.t(`${c}.G`));
    assertClose(y, ref.j(`${c}.y`), 'y');
    assertClose(grads.get('vector_z')!, ref.v(`${c}.grad_vector_z`), 'dL/dz');
    assertClose(grads.get('scaling_factor')!, [ref.v(`${c}.grad_scaling_factor`)[0]], 'dL/ds');
    const fold = m.fold();
    if (fold.kind === 'delta') assertClose(tf.add(ref.t(`${c}.W`), tf.transpose(fold.matrix())), ref.j(`${c}.merged_w`), 'merged W');
  });
}

test('LoLDU on LLaMA: r + 1 trainable per projection (r capped at its smaller side), identity at init, only z and s stored', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'loldu', rank: 768 }), 0);
  // q_proj 32 → 32 and v_proj 32 → 16: k = 32 and 16, plus the scale, in each of 2 layers
  assert.equal(peft.store.namedParams().reduce((n, [, p]) => n + p.size, 0), 2 * (33 + 17));
  assert.ok(maxDiff(logits(model, peft), logits(model, null)) < 1e-5, 'identity at init');
  assert.ok(peft.store.namedBuffers().every(([, b]) => !b.tags.has('stored')), 'L, U and z0 come from the weight again');
});
