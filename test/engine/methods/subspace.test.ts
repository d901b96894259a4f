// function: subspace (intrinsic dimension): θ = θ0 at d = 0, only d trains (its gradient is
// Pᵀ·∂L/∂θ), dense columns of unit norm over all the moved weights, the merge adds P·d, and the
// adapter holds d alone: a few kilobytes for stories260K.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { selectTrainable } from '../../../src/engine/methods/trainable.js';
import { mergeIntoBackbone } from '../../../src/engine/merge/fold.js';
import { SubspaceSite, type SubspaceVector } from '../../../src/engine/methods/subspace.js';
import { llama, plan, logits, maxDiff, fixtureInputs } from './helpers.js';

for (const projection of ['fastfood', 'dense'] as const) {
  test(`subspace (${projection}): identity at d = 0, d alone trains, ∂L/∂d = Pᵀ·∂L/∂θ, merge adds P·d`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const model = llama();
    const peft = injectMethod(model, plan({ function: 'subspace', dimension: 12, projection, position: ['attn.query', 'attn.value'] }), 0);
    assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
    const trainable = selectTrainable({ ...peft, method: { ...peft.method, trainHead: false } });
    assert.deepEqual([...trainable.params.keys()], ['subspace.subspace.d']);
    const sites = [...peft.attachments.values()].flat() as SubspaceSite[];
    const vector: SubspaceVector = sites[0].vector;
    if (projection === 'dense') {
      // every column of P has unit norm over all the moved weights
      const P = vector.dense!.value;
      const norms = tf.sqrt(tf.sum(tf.square(P), 0)).dataSync();
      norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-5));
    }
    // gradient of L = Σ logits² with respect to d, against Pᵀ·∂L/∂θ by finite differences along e_0
    const d = vector.d.variable;
    const loss = () => tf.tidy(() => tf.sum(tf.square(model.forward(fixtureInputs(), peft.context({ training: false })).logits)).dataSync()[0]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(fixtureInputs(), peft.context({ training: false })).logits)) as tf.Scalar, [d]);
    const g = grads[d.name].dataSync();
    const eps = 1e-2;
    for (const j of [0, 7]) {
      const e = new Float32Array(12);
      e[j] = eps;
      d.assign(tf.tensor1d(e));
      const up = loss();
      e[j] = -eps;
      d.assign(tf.tensor1d(e));
      const down = loss();
      const fd = (up - down) / (2 * eps);
      assert.ok(Math.abs(fd - g[j]) <= 2e-2 * Math.abs(g[j]) + 1e-3, `∂L/∂d_${j}: ${g[j]} vs ${fd}`);
    }
    d.assign(tf.tensor1d(Array.from({ length: 12 }, (_, i) => 0.3 * Math.sin(i + 1))));
    const moved = logits(model, peft);
    assert.ok(maxDiff(moved, logits(model, null)) > 1e-3);
    mergeIntoBackbone(peft);
    assert.ok(maxDiff(logits(model, null), moved) < 1e-4);
  });
}

test('subspace: a dimension above the number of moved weights is an error at its option', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  assert.throws(() => injectMethod(llama(), plan({ function: 'subspace', dimension: 5000, position: ['attn.value'] }), 0), /dimension 5000 is more than the 1024 weights/);
});
