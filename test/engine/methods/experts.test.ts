// MoLA (lowrank experts) against the authors' code (test/fixtures/reference/mola): two decoder
// layers with different expert counts, top-k and rank; router logits and probabilities, top-k
// choices and renormalised weights, outputs, the per-layer load-balancing loss, and the
// gradients of the task loss and of the balancing loss; merging is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { ExpertsLowRank, balanceLoss, expertsAt } from '../../../src/engine/methods/experts.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { mergeIntoBackbone } from '../../../src/engine/merge/fold.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { composition, linearOf, llama, plan, logits, maxDiff } from './helpers.js';

const ref = reference('mola');
const cfg = ref.case.config;
const MODS = [['L0_a', 0], ['L1_b', 1], ['L1_c', 1]] as const;

function expert(name: string, layer: number): ExpertsLowRank {
  const d = cfg.modules[name];
  const E = cfg.number_experts[layer];
  const m = new ExpertsLowRank(d.in, d.out, cfg.lora_r[layer], E, cfg.top_k[layer]);
  m.configureComposition(composition(cfg.scaling[layer]), d.in);
  m.nameTree();
  m.router.set(ref.t(`router_${name}`));
  m.A.set(tf.stack(Array.from({ length: E }, (_, e) => ref.t(`A_${name}_e${e}`))));
  m.B.set(tf.stack(Array.from({ length: E }, (_, e) => ref.t(`B_${name}_e${e}`))));
  for (const [, p] of m.namedParams()) p.makeTrainable();
  return m;
}

test('MoLA: router logits, probabilities, top-k choices and weights, outputs; task and balancing gradients', async () => {
  await useBackend();
  const mods = new Map(MODS.map(([n, l]) => [n, expert(n, l)]));
  const vars = [...mods.values()].flatMap((m) => m.namedParams().map(([, p]) => p.variable));
  const names = new Map([...mods].flatMap(([n, m]) => m.namedParams().map(([local, p]) => [p.variable.name, `${n}.${local}`] as [string, string])));
  const forward = (training: boolean) => {
    const ctx = (m: ExpertsLowRank) => new ForwardContext(new Map([['s', [m]]]), { training });
    const y0 = ctx(mods.get('L0_a')!).linear('s', ref.t('x'), linearOf(ref.t('W_L0_a'), null));
    const yb = ctx(mods.get('L1_b')!).linear('s', y0, linearOf(ref.t('W_L1_b'), null));
    const yc = ctx(mods.get('L1_c')!).linear('s', y0, linearOf(ref.t('W_L1_c'), null));
    return { y0, yb, yc };
  };
  const { y0, yb, yc } = forward(false);
  assertClose(y0, ref.j('y_L0_a'), 'y_L0_a');
  assertClose(yb, ref.j('y_L1_b'), 'y_L1_b');
  assertClose(yc, ref.j('y_L1_c'), 'y_L1_c');
  for (const [n, m] of mods) {
    const input = n === 'L0_a' ? ref.t('x') : y0;
    const u2 = tf.reshape(input, [-1, m.inDim]) as tf.Tensor2D;
    const { weights, logits: lg } = m.routing(u2);
    assertClose(lg, ref.j(`router_logits_${n}`), `router_logits_${n}`);
    assertClose(tf.softmax(lg), ref.j(`router_probs_${n}`), `router_probs_${n}`);
    // the renormalised weights at the chosen experts, in the order of their probabilities
    const idx = ref.t(`topk_idx_${n}`).arraySync() as number[][];
    const w = weights.arraySync() as number[][];
    const picked = idx.map((row, t) => row.map((e) => w[t][e]));
    assertClose(picked.flat(), ref.v(`topk_weight_${n}`), `topk_weight_${n}`);
    w.forEach((row, t) => assert.equal(row.filter((v) => v > 0).length, m.topK, `token ${t} uses top-${m.topK}`));
  }
  const task = tf.variableGrads(() => {
    const { yb: b, yc: c } = forward(true);
    return tf.add(tf.sum(tf.mul(b, ref.t('G_L1_b'))), tf.sum(tf.mul(c, ref.t('G_L1_c')))) as tf.Scalar;
  }, vars);
  assert.ok(Math.abs(task.value.dataSync()[0] - ref.case.scalars.task_loss) < 1e-4);
  const aux = tf.variableGrads(() => {
    const { y0: a } = forward(true);
    const lg = (n: string, input: tf.Tensor) => mods.get(n)!.routing(tf.reshape(input, [-1, mods.get(n)!.inDim]) as tf.Tensor2D).logits;
    const l0 = balanceLoss(lg('L0_a', ref.t('x')), cfg.top_k[0]);
    const l1 = balanceLoss(tf.concat([lg('L1_b', a), lg('L1_c', a)], 0) as tf.Tensor2D, cfg.top_k[1]);
    return tf.add(l0, l1) as tf.Scalar;
  }, vars);
  assert.ok(Math.abs(aux.value.dataSync()[0] - ref.case.scalars.aux_loss) < 1e-4, `aux ${aux.value.dataSync()[0]}`);
  for (const [kind, g] of [['task', task.grads], ['aux', aux.grads]] as const) {
    for (const [v, grad] of Object.entries(g)) {
      const [n, local] = names.get(v)!.split('.');
      if (local === 'router') assertClose(grad, ref.j(`grad_${kind}_router_${n}`), `${kind} router ${n}`);
      else {
        const E = grad.shape[0];
        for (let e = 0; e < E; e++) {
          const slice = tf.squeeze(tf.slice(grad, [e, 0, 0], [1, -1, -1]), [0]);
          assertClose(slice, ref.j(`grad_${kind}_${local === 'lora_A' ? 'A' : 'B'}_${n}_e${e}`), `${kind} ${local} ${n} e${e}`);
        }
      }
    }
  }
  assert.equal([...mods.values()].reduce((s, m) => s + m.namedParams().reduce((a, [, p]) => a + p.size, 0), 0), ref.case.scalars.trainable_params);
});

test('MoLA expert counts: a list per layer, or a shorter one spread evenly ([2, 4, 6, 8] over 32 layers is 8 of each)', () => {
  assert.deepEqual(Array.from({ length: 32 }, (_, l) => expertsAt([2, 4, 6, 8], l, 32)).join(''), '2'.repeat(8) + '4'.repeat(8) + '6'.repeat(8) + '8'.repeat(8));
  assert.deepEqual(Array.from({ length: 5 }, (_, l) => expertsAt([2, 4, 6, 8], l, 5)), [2, 2, 4, 6, 8]);
  assert.equal(expertsAt(3, 4, 5), 3);
});

test('mola on LLaMA: identity at init, the balancing loss in training, and merging refused with the reason', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'mola', experts: [2, 4], rank: 2, position: ['attn.query'] }), 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
  assert.deepEqual(peft.store.namedParams().filter(([n]) => n.endsWith('router')).map(([, p]) => p.shape[0]), [2, 4]);
  tf.tidy(() => {
    model.forward({ inputIds: tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), attentionMask: tf.ones([1, 3]) }, peft.context({ training: true }));
    const aux = peft.extraLoss();
    assert.ok(aux && aux.dataSync()[0] > 0, 'the balancing loss is added in training');
  });
  assert.throws(() => mergeIntoBackbone(peft), /cannot be merged: a router picks its experts for every token, so the update depends on the input/);
});
