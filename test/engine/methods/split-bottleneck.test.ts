// Split & Merge (MoSA) against the authors' code (test/fixtures/reference/mosa): the disjoint
// masks from a random score (rank rule), the adapter branch for the recorded sub-adapter draws,
// the gradients their masked update receives — our one tensor per split weight gets the sum of
// the chosen sub-adapters' masked gradients, since the masks are disjoint — at every step of the
// shared-down run (and the first of the fully split one), and the merged adapter (their mean).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { assertClose, useBackend } from '../../helpers/fixtures.js';
import { SplitBottleneck, splitMasks } from '../../../src/engine/methods/split-bottleneck.js';
import { gelu } from '../../../src/engine/nn/activations.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { crossEntropy } from '../../../src/engine/train/losses.js';
import { reference } from '../selection/helpers.js';

const ref = reference('mosa');
const N = 4;

/** x with no gradient through it (torch's .detach()). */
const detach = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as unknown as (t: tf.Tensor) => tf.Tensor;

/** The authors' symmetric_KL_loss: ½(KL(p2‖p1) + KL(p1‖p2)) with the targets detached, batch mean. */
function symKl(l1: tf.Tensor, l2: tf.Tensor): tf.Scalar {
  const kl = (target: tf.Tensor, logits: tf.Tensor) => {
    const p = detach(tf.softmax(target));
    return tf.div(tf.sum(tf.mul(p, tf.sub(tf.log(p), tf.logSoftmax(logits)))), logits.shape[0]!);
  };
  return tf.mul(tf.add(kl(l2, l1), kl(l1, l2)), 0.5) as tf.Scalar;
}

function module(share: 'down' | 'none', at: string): SplitBottleneck {
  const p = (n: string) => `${share === 'down' ? 'share_down' : 'share_none'}.${at}.${n}`;
  const m = new SplitBottleneck(8, 8, 4, N, share === 'down', gelu, true);
  m.nameTree();
  const sumOf = (name: string) => tf.addN(Array.from({ length: N }, (_, j) => ref.t(p(`adapter_up.${j}.${name}`))));
  if (share === 'down') {
    m.downW.set(ref.t(p('adapter_down.weight')));
    m.downB.set(ref.t(p('adapter_down.bias')));
  } else {
    // at the start every down copy is the same D₀ (outside its mask a copy keeps it)
    m.down0!.set(ref.t(p('adapter_down.0.weight')));
    m.downW.set(ref.t(p('adapter_down.0.weight')));
    m.downB.set(tf.stack(Array.from({ length: N }, (_, i) => ref.t(p(`adapter_down.${i}.bias`)))));
  }
  m.upW.set(sumOf('weight'));
  m.upB.set(tf.stack(Array.from({ length: N }, (_, j) => ref.t(p(`adapter_up.${j}.bias`)))));
  m.ln!.weight.set(ref.t(p('adapter_norm.weight')));
  m.ln!.bias!.set(ref.t(p('adapter_norm.bias')));
  const prefix = share === 'down' ? 'share_down' : 'share_none';
  m.setMaskScores(ref.f32(`${prefix}.adapter_up.weight.score`), share === 'down' ? null : ref.f32(`${prefix}.adapter_down.weight.score`));
  for (const p2 of m.namedParams()) p2[1].makeTrainable();
  return m;
}

test('mosa: the sub-adapters\' masks are a random partition by rank of the score (Pruner.divide)', () => {
  for (const share of ['share_down', 'share_none']) {
    const score = ref.f32(`${share}.adapter_up.weight.score`);
    const masks = splitMasks(score, N);
    masks.forEach((m, j) => assert.deepEqual([...m], [...ref.i32(`${share}.adapter_up.${j}.weight.mask`)], `${share} up ${j}`));
    const total = masks.reduce((a, m) => a.map((x, i) => x + m[i]), new Float32Array(score.length));
    assert.ok(total.every((x) => x === 1), 'disjoint and covering');
  }
});

function stepCheck(share: 'down' | 'none', step: number): void {
  const prefix = share === 'down' ? 'share_down' : 'share_none';
  const before = step === 1 ? 'init' : `step${step - 1}`;
  const m = module(share, before);
  const info = ref.case.results[`${prefix}_steps`][step - 1].choices;
  const draws: [number, number][] = [[info.forward1.A_down, info.forward1.B_up], [info.forward2_additional.A_down, info.forward2_additional.B_up]];
  let call = 0;
  m.choose = () => draws[call++];
  const h = ref.t(`${prefix}.h`);
  const ffn = ref.t(`${prefix}.ffn_out`);
  const headW = ref.t(`${prefix}.${before}.head.weight`);
  const headB = ref.t(`${prefix}.${before}.head.bias`);
  const labels = tf.tensor1d(ref.i32('labels'), 'int32');
  const ctx = new ForwardContext(new Map(), { training: true });
  const logitsOf = () => {
    const out = tf.add(tf.add(h, ffn), tf.mul(m.delta(h, ctx), 0.1));
    const cls = tf.reshape(tf.slice(out, [0, 0, 0], [3, 1, 8]), [3, 8]);
    return tf.add(tf.matMul(cls, headW, false, true), headB);
  };
  const params = m.namedParams();
  const { value, grads } = tf.variableGrads(() => {
    const l1 = logitsOf();
    const l2 = logitsOf();
    return tf.add(crossEntropy(l1 as tf.Tensor2D, labels), symKl(l1, l2)) as tf.Scalar;
  }, params.map(([, p]) => p.variable));
  assert.ok(Math.abs(value.dataSync()[0] - ref.case.results[`${prefix}_steps`][step - 1].loss) < 1e-4, `${prefix} step ${step}: loss`);
  const g = (name: string) => grads[params.find(([n]) => n === name)![1].variable.name];
  const theirs = (name: string) => (ref.file.has(`${prefix}.step${step}.grad.${name}`) ? ref.f32(`${prefix}.step${step}.grad.${name}`) : null);
  const zeros = (n: number) => new Float32Array(n);
  // up: the union tensor's gradient is the sum of the sub-adapters' masked ones; biases per sub-adapter
  const upSum = new Float32Array(32);
  for (let j = 0; j < N; j++) (theirs(`adapter_up.${j}.weight`) ?? zeros(32)).forEach((v, i) => (upSum[i] += v));
  assertClose(g('adapter_up.weight'), Array.from(upSum), `${prefix} step ${step}: up`);
  assertClose(g('adapter_up.bias'), Array.from({ length: N }, (_, j) => Array.from(theirs(`adapter_up.${j}.bias`) ?? zeros(8))).flat(), `${prefix} step ${step}: up biases`);
  if (share === 'down') {
    assertClose(g('adapter_down.weight'), Array.from(theirs('adapter_down.weight')!), `${prefix} step ${step}: down`);
    assertClose(g('adapter_down.bias'), Array.from(theirs('adapter_down.bias')!), `${prefix} step ${step}: down bias`);
  } else {
    const downSum = new Float32Array(32);
    for (let i = 0; i < N; i++) (theirs(`adapter_down.${i}.weight`) ?? zeros(32)).forEach((v, k) => (downSum[k] += v));
    assertClose(g('adapter_down.weight'), Array.from(downSum), `${prefix} step ${step}: down`);
    assertClose(g('adapter_down.bias'), Array.from({ length: N }, (_, i) => Array.from(theirs(`adapter_down.${i}.bias`) ?? zeros(4))).flat(), `${prefix} step ${step}: down biases`);
  }
  assertClose(g('adapter_norm.weight'), Array.from(theirs('adapter_norm.weight')!), `${prefix} step ${step}: norm`);
}

test('mosa (share: down): the masked gradients of all six recorded steps, from the authors\' weights before each', async () => {
  await useBackend();
  for (let step = 1; step <= 6; step++) stepCheck('down', step);
});

test('mosa (share: none): the first step, down and up split', async () => {
  await useBackend();
  stepCheck('none', 1);
});

test('mosa: merged = the mean of the sub-adapters, and the evaluation forward with it', async () => {
  await useBackend();
  const m = module('down', 'step6');
  const merged = m.merged('');
  assertClose(merged.get('adapter_up.weight')!, Array.from(ref.f32('share_down.merged.adapter_up_merge.weight')), 'merged up');
  assertClose(merged.get('adapter_up.bias')!, Array.from(ref.f32('share_down.merged.adapter_up_merge.bias')), 'merged up bias');
  const h = ref.t('share_down.h');
  const out = tf.add(tf.add(h, ref.t('share_down.ffn_out')), tf.mul(m.delta(h, new ForwardContext(new Map(), { training: false })), 0.1));
  assertClose(out, Array.from(ref.f32('share_down.eval.block_out')), 'eval block output');
  const cls = tf.reshape(tf.slice(out, [0, 0, 0], [3, 1, 8]), [3, 8]);
  const logits = tf.add(tf.matMul(cls, ref.t('share_down.step6.head.weight'), false, true), ref.t('share_down.step6.head.bias'));
  assertClose(logits, Array.from(ref.f32('share_down.eval.logits')), 'eval logits');
});
