// MTLoRA against the authors' MTLoRALinear and Mlp (test/fixtures/reference/mtlora): the shared
// output and every task's output in the three shared modes, with and without task streams, and
// the gradients of every low-rank factor; then the routed form the engine uses (each row takes
// its task's output at the task layers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { MtLoRA, type MtLoRASpec } from '../../../src/engine/methods/mtlora.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';

const TASKS = ['semseg', 'depth'];

function build(ref: ReturnType<typeof reference>, params: string, mode: MtLoRASpec['mode'], inDim: number, outDim: number): MtLoRA {
  const cfg = ref.case.config;
  const m = new MtLoRA(inDim, outDim, {
    rank: cfg.r.shared, taskRanks: TASKS.map((t) => cfg.r[t]), sharedScale: cfg.lora_shared_scale,
    taskScales: TASKS.map((t) => cfg.lora_task_scale[t]), mode, dropout: 0,
  }, true, 'test');
  for (const [name, p] of m.namedParams()) {
    const theirs = name.replace(/\.(\d)$/, (_, i) => `.${TASKS[Number(i)]}`);
    p.set(ref.t(`${params}.${theirs}`));
    p.makeTrainable();
  }
  return m;
}

/** P = x·Wᵀ + b of the frozen linear. */
function projection(ref: ReturnType<typeof reference>, prefix: string, x: tf.Tensor): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, ref.t(`${prefix}.param.linear.weight`) as tf.Tensor2D, false, true), ref.t(`${prefix}.param.linear.bias`));
}

test('MTLoRALinear in matrix, matrixv2 and addition mode: outputs and gradients equal the authors\' code', async () => {
  await useBackend();
  const ref = reference('mtlora');
  const x = ref.t('x');
  const xTasks = TASKS.map((t) => ref.t(`x_task.${t}`));
  for (const mode of ['matrix', 'matrixv2', 'addition'] as const) {
    const prefix = `lin_${mode}`;
    const m = build(ref, `${prefix}.param`, mode, 16, 12);
    const params = m.namedParams();
    assert.equal(params.reduce((n, [, p]) => n + p.size, 0), ref.case.scalars[`${prefix}.lora_param_count`], `${mode}: trainable count`);
    for (const variant of ['noxtask', 'xtask'] as const) {
      const run = () => m.outputs(x, projection(ref, prefix, x), variant === 'xtask' ? xTasks : undefined);
      const { y, yTasks } = run();
      assertClose(y, ref.j(`${prefix}.${variant}.y`), `${mode} ${variant} y`);
      TASKS.forEach((t, i) => assertClose(yTasks[i], ref.j(`${prefix}.${variant}.y_task.${t}`), `${mode} ${variant} y_task.${t}`));
      const { value, grads } = tf.variableGrads(() => {
        const o = run();
        return tf.addN([tf.sum(tf.mul(o.y, ref.t('G'))), ...o.yTasks.map((yt, i) => tf.sum(tf.mul(yt, ref.t(`G_task.${TASKS[i]}`))))]) as tf.Scalar;
      }, params.map(([, p]) => p.variable));
      assertClose([value.dataSync()[0]], [ref.case.scalars[`${prefix}.${variant}.loss`]], `${mode} ${variant} loss`);
      for (const [name, p] of params) {
        const theirs = name.replace(/\.(\d)$/, (_, i) => `.${TASKS[Number(i)]}`);
        assertClose(grads[p.variable.name], ref.j(`${prefix}.${variant}.grad.${theirs}`), `${mode} ${variant} d/d${theirs}`);
      }
    }
  }
});

test('the Mlp of a stage\'s last block: fc1\'s task streams feed fc2\'s task paths (authors\' Mlp.forward)', async () => {
  await useBackend();
  const ref = reference('mtlora');
  const fc1 = build(ref, 'mlp.param.fc1', 'matrix', 16, 24);
  const fc2 = build(ref, 'mlp.param.fc2', 'matrix', 24, 16);
  const lin = (layer: string, u: tf.Tensor) => tf.add(tf.matMul(u as tf.Tensor2D, ref.t(`mlp.param.${layer}.linear.weight`) as tf.Tensor2D, false, true), ref.t(`mlp.param.${layer}.linear.bias`));
  const x = ref.t('x');
  const xTasks = TASKS.map((t) => ref.t(`x_task.${t}`));
  const gelu = (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.div(t, Math.SQRT2))));
  const h = fc1.outputs(x, lin('fc1', x), xTasks);
  const hy = gelu(h.y);
  const ht = h.yTasks.map(gelu);
  // fc2's task paths read h_t[t], its projection P the shared stream (MTLoRALinear computes P from x)
  const out = fc2.outputs(hy, lin('fc2', hy), ht);
  assertClose(out.y, ref.j('mlp.y'), 'mlp y');
  TASKS.forEach((t, i) => assertClose(out.yTasks[i], ref.j(`mlp.y_task.${t}`), `mlp y_task.${t}`));
});

test('routed: a row of task t takes y_t at a task layer, the shared output elsewhere', async () => {
  await useBackend();
  const ref = reference('mtlora');
  const m = build(ref, 'lin_matrix.param', 'matrix', 16, 12);
  const x = tf.reshape(ref.t('x'), [5, 1, 16]);
  const P = tf.reshape(projection(ref, 'lin_matrix', ref.t('x')), [5, 1, 12]);
  const ids = [0, 1, 1, 0, 1];
  const got = m.transform(x, P, new ForwardContext(new Map(), { training: false, taskIds: ids })).arraySync() as number[][][];
  const yTasks = TASKS.map((t) => ref.t(`lin_matrix.noxtask.y_task.${t}`).arraySync() as number[][]);
  assertClose(got.flat(2), ids.flatMap((t, b) => yTasks[t][b]), 'routed rows');
  const shared = new MtLoRA(16, 12, { rank: 4, taskRanks: [2, 3], sharedScale: 4, taskScales: [2, 4], mode: 'matrix', dropout: 0 }, false, 'test');
  assert.deepEqual(shared.namedParams().map(([n]) => n), ['lora_shared_A', 'lora_shared_B'], 'below the task layers: the shared module only');
});
