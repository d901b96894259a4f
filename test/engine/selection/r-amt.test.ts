// Regularized Mask Tuning against the authors' code (test/fixtures/reference/r_amt): masks from
// scores (s > 5e-3), the masked forward in train and eval, the straight-through score gradient
// dL/ds = dL/dW_eff ⊙ W, the loss CE + 1e-4·Σ‖s‖₂ (the selection's score regulariser), the
// teacher distillation term, the gradient-dropout keep probabilities and gradient (with the
// authors' recorded uniform draws), and one Adam step on the scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { assertClose, useBackend } from '../../helpers/fixtures.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { Adam } from '../../../src/engine/train/optim/index.js';
import { crossEntropy } from '../../../src/engine/train/losses.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { distillLoss, gradientDropout } from '../../../src/engine/selection/gdr.js';
import { reference, selectMethod, tinyModel } from './helpers.js';

const ref = reference('r_amt');
const R = ref.case.results;

function setup() {
  const { model, linears } = tinyModel([
    { name: 'l1', position: 'attn.query', inDim: 16, outDim: 12 },
    { name: 'l2', position: 'attn.out_proj', inDim: 12, outDim: 5 },
  ]);
  linears.get('l1')!.weight.set(ref.t('W1'));
  linears.get('l1')!.bias!.set(ref.t('b1'));
  linears.get('l2')!.weight.set(ref.t('W2'));
  linears.get('l2')!.bias!.set(ref.t('b2'));
  const peft = injectMethod(model, selectMethod({ criterion: 'learned', position: ['attn.query', 'attn.out_proj'] }), 0);
  const trainable = selectTrainable(peft);
  const s1 = trainable.params.get('l1.select.scores')!;
  const s2 = trainable.params.get('l2.select.scores')!;
  const x = ref.t('x');
  const logits = (ctx: ForwardContext) => ctx.linear('l2', tf.tanh(ctx.linear('l1', x, linears.get('l1')!)), linears.get('l2')!);
  return { peft, trainable, s1, s2, logits };
}

test('mask tuning starts as the pretrained model: every score 1e-2 > 5e-3 (the authors\' "1s" init)', async () => {
  await useBackend();
  const { peft, s1, logits } = setup();
  assert.deepEqual(s1.value.dataSync(), ref.f32('init.s1'));
  const masked = tf.tidy(() => logits(peft.context({ training: true })).dataSync());
  const plain = tf.tidy(() => logits(ForwardContext.plain(false)).dataSync());
  assert.deepEqual(masked, plain);
});

test('mask tuning: masks, train/eval forward and straight-through score gradients match masklayers.py', async () => {
  await useBackend();
  const { peft, s1, s2, logits } = setup();
  s1.set(ref.t('s1'));
  s2.set(ref.t('s2'));
  const idx = peft.selection!;
  for (const [site, name] of [['l1', 'mask1'], ['l2', 'mask2']] as const) {
    const zeroed = idx.attachment(site)!.changedIndices('weight')!;
    const want = ref.f32(name);
    assert.deepEqual([...zeroed], [...want.keys()].filter((i) => want[i] === 0), `${name}: the entries switched off`);
  }
  assert.equal(R.masked_out_initially, idx.attachment('l1')!.changedIndices('weight')!.length + idx.attachment('l2')!.changedIndices('weight')!.length);
  assertClose(tf.tidy(() => logits(peft.context({ training: true })).dataSync()) as Float32Array, Array.from(ref.f32('y_train')), 'y_train');
  assertClose(tf.tidy(() => logits(peft.context({ training: false })).dataSync()) as Float32Array, Array.from(ref.f32('y_eval')), 'y_eval');
  const G = ref.t('G');
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(logits(peft.context({ training: true })), G)) as tf.Scalar, [s1.variable, s2.variable]);
  assertClose(grads[s1.variable.name], Array.from(ref.f32('ste.grad_s1')), 'dL/ds1');
  assertClose(grads[s2.variable.name], Array.from(ref.f32('ste.grad_s2')), 'dL/ds2');
});

test('mask tuning: CE + score norms, teacher KL, gradient dropout and one Adam step match masktuning.py', async () => {
  await useBackend();
  const { peft, s1, s2, logits } = setup();
  s1.set(ref.t('s1'));
  s2.set(ref.t('s2'));
  const labels = tf.tensor1d(ref.i32('labels'), 'int32');
  const teacher = tf.tidy(() => logits(ForwardContext.plain(false)));
  assertClose(teacher, Array.from(ref.f32('teacher_logits')), 'teacher logits');
  const vars = [s1.variable, s2.variable];
  const lossA = () => tf.add(crossEntropy(logits(peft.context({ training: true })) as tf.Tensor2D, labels), peft.extraLoss()!) as tf.Scalar;
  const reg = tf.tidy(() => peft.extraLoss()!.dataSync()[0]);
  assert.ok(Math.abs(reg - R.reg_term) <= 1e-4 * R.reg_term, `score regulariser ${reg} vs ${R.reg_term}`);
  const a = tf.variableGrads(lossA, vars);
  assert.ok(Math.abs(a.value.dataSync()[0] - R.loss_a) <= 1e-4 * Math.abs(R.loss_a), `loss_a ${a.value.dataSync()[0]} vs ${R.loss_a}`);
  const b = tf.variableGrads(() => distillLoss(logits(peft.context({ training: true })), teacher, 1), vars);
  assert.ok(Math.abs(b.value.dataSync()[0] - R.kl_loss) <= 1e-4 * Math.abs(R.kl_loss), `KL ${b.value.dataSync()[0]} vs ${R.kl_loss}`);
  const dropped = new Map<string, tf.Tensor>();
  for (const [i, s] of [[1, s1], [2, s2]] as const) {
    const ga = a.grads[s.variable.name];
    const gb = b.grads[s.variable.name];
    assertClose(ga, Array.from(ref.f32(`gdr.a_grad_s${i}`)), `a_grad_s${i}`);
    assertClose(gb, Array.from(ref.f32(`gdr.b_grad_s${i}`)), `b_grad_s${i}`);
    const { p, grad } = gradientDropout(ga, gb, ref.t(`gdr.U_s${i}`), 0.3);
    assertClose(p, Array.from(ref.f32(`gdr.P_s${i}`)), `P_s${i}`);
    assertClose(grad, Array.from(ref.f32(`gdr.grad_s${i}`)), `grad_s${i}`);
    dropped.set(s.fullName, grad);
  }
  const opt = new Adam(new Map([[s1.fullName, s1.variable], [s2.fullName, s2.variable]]), { lr: 1e-3 });
  opt.step(dropped);
  assertClose(s1.value, Array.from(ref.f32('after.s1')), 'scores s1 after one step');
  assertClose(s2.value, Array.from(ref.f32('after.s2')), 'scores s2 after one step');
  for (const [site, name] of [['l1', 'after.mask1'], ['l2', 'after.mask2']] as const) {
    const want = ref.i32(name);
    assert.deepEqual([...peft.selection!.attachment(site)!.changedIndices('weight')!], [...want.keys()].filter((i) => want[i] === 0), name);
  }
  opt.dispose();
});
