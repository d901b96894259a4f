// LAE against the authors' code (test/fixtures/reference/lae): the accumulation step (offline ←
// d·offline + (1 − d)·online, the learned scale included), the ensemble (element-wise max of the
// two experts' softmax; offline alone), and the learning step's loss and gradients — the
// cross-entropy over the current task's labels only, which is our loss restricted to a batch's
// classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { Param } from '../../../src/engine/nn/module.js';
import { emaUpdate, laeEnsemble } from '../../../src/engine/continual/lae.js';
import { lossOf } from '../../../src/engine/train/task-loss.js';
import type { Batch } from '../../../src/engine/data/batches.js';

const PARTS = ['layer.0.weight', 'layer.0.bias', 'layer.2.weight', 'layer.2.bias', 'layer.3.scale'];
const names = [0, 1].flatMap((i) => PARTS.map((p) => `${i}.${p}`));

test('accumulation: one EMA step of the offline modules toward the online ones (every entry, the scale too)', async () => {
  await useBackend();
  const ref = reference('lae');
  const offline = new Map(names.map((n) => [n, tf.keep(ref.t(`offline_before.${n}`))]));
  const online = new Map(names.map((n) => {
    const p = new Param(ref.t(`online_after.${n}`).shape);
    p.set(ref.t(`online_after.${n}`));
    return [n, p];
  }));
  emaUpdate(offline, online, ref.case.config.ema_decay);
  for (const n of names) assertClose(offline.get(n)!, ref.j(`offline_after.${n}`), `offline ${n}`);
});

test('ensemble: the element-wise max of the online and offline softmax, its argmax; the offline expert alone', async () => {
  await useBackend();
  const ref = reference('lae');
  const on = ref.t('eval_online_softmax') as tf.Tensor2D;
  const off = ref.t('eval_offline_softmax') as tf.Tensor2D;
  const max = laeEnsemble(on, off, 'max');
  assertClose(max, ref.j('eval_ensemble.output'), 'ensemble');
  assert.deepEqual(Array.from(tf.argMax(max, 1).dataSync()), ref.ints('eval_ensemble.pred'));
  const only = laeEnsemble(on, off, 'offline');
  assertClose(only, ref.j('eval_only_emas.output'), 'offline only');
  assert.deepEqual(Array.from(tf.argMax(only, 1).dataSync()), ref.ints('eval_only_emas.pred'));
  assert.equal(laeEnsemble(on, null, 'max'), on, 'before the second task there is no offline expert');
});

test('learning: the loss over the current task\'s labels and its gradients equal the authors\' train_step', async () => {
  await useBackend();
  const ref = reference('lae');
  const vars = new Map(names.map((n) => [n, tf.variable(ref.t(`online_before.${n}`))]));
  const gelu = (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.div(t, Math.SQRT2))));
  const linear = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b);
  const forward = (x: tf.Tensor) => {
    let h = x;
    for (const i of [0, 1]) {
      const v = (p: string) => vars.get(`${i}.${p}`)!;
      const adapter = tf.mul(linear(gelu(linear(h, v('layer.0.weight'), v('layer.0.bias'))), v('layer.2.weight'), v('layer.2.bias')), v('layer.3.scale'));
      h = tf.add(linear(h, ref.t(`block${i}.weight`), ref.t(`block${i}.bias`)), adapter);
    }
    return linear(h, ref.t('head.weight'), ref.t('head.bias'));
  };
  const y = ref.ints('train_y');
  const batch = { size: y.length, labels: Float32Array.from(y), classes: [3, 4, 5] } as unknown as Batch;
  const task = { type: 'seq-cls' as const, numLabels: 6, labels: null, pooling: null, labelSmoothing: 0 };
  const { value, grads } = tf.variableGrads(() => lossOf({ logits: forward(ref.t('train_x')) } as never, task, batch), [...vars.values()]);
  assertClose([value.dataSync()[0]!], [ref.case.scalars.train_loss], 'loss');
  for (const [n, v] of vars) assertClose(grads[v.name]!, ref.j(`online_grad.${n}`), `d/d ${n}`);
});
