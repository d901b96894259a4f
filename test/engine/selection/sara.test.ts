// SaRA against the authors' optimizer (test/fixtures/reference/sara): the |w| < threshold masks,
// four AdamW steps on the selected entries with the progressive re-selection after step 2 (their
// --disable_ub path, adamw2.py, which ours follows: Adam state kept, the re-selection step
// updates, no |w| written at construction), and the nuclear-norm term's value and gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, assertClose, readJson, useBackend } from '../../helpers/fixtures.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { AdamW } from '../../../src/engine/train/optim/index.js';
import { nuclearNorm, polarFactor } from '../../../src/engine/selection/nuclear.js';
import { reference, selectMethod, tinyModel } from './helpers.js';

const ref = reference('sara');
const TENSORS = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'];

function setup() {
  const { model, linears } = tinyModel([
    { name: 'fc1', position: 'ffn.up_proj', inDim: 16, outDim: 12 },
    { name: 'fc2', position: 'ffn.down_proj', inDim: 12, outDim: 8 },
  ]);
  for (const t of TENSORS) {
    const [l, p] = t.split('.');
    const lin = linears.get(l)!;
    (p === 'weight' ? lin.weight : lin.bias!).set(ref.t(`W0.${t}`));
  }
  const method = selectMethod({
    criterion: 'magnitude', threshold: 0.02, biases: true, reselect: { every: 2, times: 1 }, position: ['ffn.up_proj', 'ffn.down_proj'],
  });
  const peft = injectMethod(model, method, 0);
  const trainable = selectTrainable(peft);
  const x = ref.t('x');
  const G = ref.t('G');
  const forward = (ctx = peft.context({ training: true })) =>
    ctx.linear('fc2', tf.tanh(ctx.linear('fc1', x, linears.get('fc1')!)), linears.get('fc2')!);
  return { model, linears, peft, trainable, forward, loss: () => tf.sum(tf.mul(forward(), G)) as tf.Scalar };
}

/** The effective tensor a layer computes with, as a flat array. */
function effective(peft: ReturnType<typeof setup>['peft'], name: string): Float32Array {
  const [l, p] = name.split('.');
  return tf.tidy(() => peft.selection!.attachment(l)!.effective(p as 'weight' | 'bias')!.dataSync() as Float32Array);
}

test('sara: the selection is |w| < threshold in every tensor, biases included (exactly the authors\' masks)', async () => {
  await useBackend();
  const { peft } = setup();
  for (const t of TENSORS) {
    const [l, p] = t.split('.');
    const mask = ref.i32(`dense.mask0.${t}`);
    const want = [...mask.keys()].filter((i) => mask[i] === 1);
    const slot = peft.selection!.slotLayouts.find((s) => s.site === l && s.tensor === p)!;
    const got = peft.selection!.layout().indices.get(`${l}.${p}`)!;
    assert.deepEqual([...got], want, t);
    assert.equal(slot.count, want.length);
  }
  // the model is the pretrained one until the first step
  for (const t of TENSORS) assert.deepEqual(effective(peft, t), ref.f32(`W0.${t}`), t);
});

test('sara: four AdamW steps with a re-selection after step 2 match adamw2.py (weights, outputs, re-selected masks)', async () => {
  await useBackend();
  const { peft, trainable, forward, loss } = setup();
  const vars = new Map([...trainable.params].map(([n, p]) => [n, p.variable]));
  const nameOf = new Map([...vars].map(([n, v]) => [v.name, n]));
  // the optimizer keeps state for the selected entries only: 28 + 2 + 14 + 4
  assert.equal([...trainable.params.values()].reduce((n, p) => n + p.size, 0), 48);
  const opt = new AdamW(vars, { lr: 0.01, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 });
  for (let step = 1; step <= 4; step++) {
    assertClose(tf.tidy(() => forward()).dataSync() as Float32Array, Array.from(ref.f32(`dense.step${step}.y`)), `y before step ${step}`);
    const { value, grads } = tf.variableGrads(loss, [...vars.values()]);
    value.dispose();
    const byName = new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g]));
    opt.step(byName);
    peft.afterStep({ step: step - 1, totalSteps: 4, grads: byName });
    byName.forEach((g) => g.dispose());
    for (const t of TENSORS) assertClose(effective(peft, t), Array.from(ref.f32(`dense.step${step}.W.${t}`)), `${t} after step ${step}`);
    if (step === 2) {
      for (const t of TENSORS) {
        const [l, p] = t.split('.');
        const mask1 = ref.i32(`dense.mask1.${t}`);
        assert.equal(peft.selection!.activeCount(l, p as 'weight' | 'bias'), mask1.reduce((n, v) => n + v, 0), `${t}: entries still training after the re-selection`);
      }
    }
  }
  opt.dispose();
});

test('sara: the nuclear-norm term λ·‖W ⊙ M‖_* and its gradient λ·M ⊙ U·Vᵀ (the authors\' nuclear_norm)', async () => {
  await useBackend();
  const w = ref.t('W0.fc1.weight') as tf.Tensor2D;
  const mask = tf.tensor(Float32Array.from(ref.i32('nuc.mask')), [12, 16]);
  const value = tf.tidy(() => nuclearNorm(tf.mul(w, mask) as tf.Tensor2D).dataSync()[0]);
  const want = readCase().results.nuclear_norm.value_of_norm_W0fc1_masked as number;
  assert.ok(Math.abs(value - want) <= 1e-4 * want, `‖W ⊙ M‖_* = ${value}, authors ${want}`);
  const grad = tf.grad((v: tf.Tensor) => tf.mul(nuclearNorm(tf.mul(v, mask) as tf.Tensor2D), 0.5) as tf.Scalar)(w);
  assertClose(grad, Array.from(ref.f32('nuc.grad')), 'd/dW 0.5·‖W ⊙ M‖_*', 0, 1e-4);
  // the polar factor is a partial isometry on the matrix's range: P·Pᵀ·P = P
  const p = polarFactor(tf.mul(w, mask) as tf.Tensor2D);
  assertClose(tf.matMul(tf.matMul(p, p, false, true), p), Array.from(p.dataSync()), 'P·Pᵀ·P = P', 0, 1e-4);
});

test('sara: in training the nuclear term reaches the selected entries (adamw2.py: 66×65 matrix, threshold 0.01, λ 0.5)', async () => {
  await useBackend();
  const { model, linears } = tinyModel([{ name: 'w', position: 'ffn.up_proj', inDim: 65, outDim: 66, bias: false }]);
  linears.get('w')!.weight.set(ref.t('nucopt.W0'));
  const peft = injectMethod(model, selectMethod({ criterion: 'magnitude', threshold: 0.01, nuclear: 0.5, position: 'ffn.up_proj' }), 0);
  const trainable = selectTrainable(peft);
  const [name, values] = [...trainable.params][0];
  const idx = peft.selection!.layout().indices.get('w.weight')!;
  assert.deepEqual([...idx], [...ref.i32('nucopt.mask_index')]);
  const { grads } = tf.variableGrads(() => peft.extraLoss()!, [values.variable]);
  const dense = ref.f32('nucopt.dense.grad');
  assertClose(Object.values(grads)[0], Array.from(idx, (i) => dense[i]), `${name}: gradient of the rank term`, 0, 1e-4);
});

function readCase(): any {
  return readJson(REPO, 'test', 'fixtures', 'reference', 'sara', 'case.json');
}
