// The fused ops of small transformers (src/engine/backend/fused: rmsNorm, swiglu, rowNll, loraLinear,
// adamUpdate, sumSquares): on native one kernel each way, compared with their composites of tfjs
// ops on cpu — values and gradients (each input's on its own, as the tape asks for them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { adamUpdate, ensureGradients, initBackend, listBackends, loraLinear, rmsNorm, rowNll, sumSquares, swiglu } from '../../../../src/engine/backend/index.js';
import { crossEntropy } from '../../../../src/engine/train/losses.js';
import { adamComposite } from '../../../../src/engine/backend/fused/adam.js';
import { assertGradParity, assertNoLeak, assertParity, ints, positive, randn, runOn } from '../parity.js';

await ensureGradients();
const status = (await listBackends()).find((s) => s.name === 'native');
const skip = status?.available ? false : `native backend unavailable: ${status?.reason}`;
if (!skip) await initBackend('native');

test('rmsNorm matches the composite, values and gradients (x and w)', { skip }, async () => {
  for (const shape of [[4, 8], [2, 3, 64], [700, 64]]) {
    const h = shape[shape.length - 1]!;
    const inputs = [randn(shape, 2, 3), randn([h], 3)];
    const f = (x: tf.Tensor, w: tf.Tensor) => rmsNorm(x, w, 1e-5);
    await assertParity('native', `rmsNorm ${shape}`, inputs, f, 1e-5, 1e-6);
    await assertGradParity('native', `rmsNorm ${shape}`, inputs, f, 1e-4, 1e-5);
  }
});

test('swiglu matches the composite, values and gradients (gate and up)', { skip }, async () => {
  for (const shape of [[3, 7], [300, 172]]) {
    const inputs = [randn(shape, 5, 6), randn(shape, 6, 2)];
    await assertParity('native', `swiglu ${shape}`, inputs, swiglu, 1e-5, 1e-6);
    await assertGradParity('native', `swiglu ${shape}`, inputs, swiglu, 1e-4, 1e-5);
  }
});

test('rowNll matches the composite, values and the logits gradient, with ignored (-100) and out-of-range labels', { skip }, async () => {
  for (const [N, C] of [[7, 2], [300, 512]] as const) {
    const labels = ints([N], 31, 0, C);
    const y = labels.values as Int32Array;
    y[0] = -100;
    y[N - 1] = C; // no class: nll 0, no gradient
    const inputs = [randn([N, C], 30, 4), labels];
    const f = (logits: tf.Tensor, l: tf.Tensor) => rowNll(logits as tf.Tensor2D, l as tf.Tensor1D);
    await assertParity('native', `rowNll ${N}x${C}`, inputs, f, 1e-5, 1e-5);
    await assertGradParity('native', `rowNll ${N}x${C}`, inputs, f, 1e-4, 1e-6);
    // the mean loss over the rows that are not ignored, as training computes it
    const mean = (logits: tf.Tensor, l: tf.Tensor) => crossEntropy(logits as tf.Tensor2D, l as tf.Tensor1D);
    await assertGradParity('native', `crossEntropy ${N}x${C}`, inputs, mean, 1e-4, 1e-7);
  }
});

test('loraLinear matches the composite in both weight layouts, with and without bias, scale 1 and 2, merged and unmerged, rank 8 and 4', { skip }, async () => {
  const [inF, outF] = [24, 40];
  // 2·37 rows go through the merged weight W + s·B·A (many rows), 2·1 through the low-rank products;
  // rank 8 takes the factors' gradients through the 8-column kernel (rows four at a time and a tail), rank 4 through BLAS
  const cases = (['out_in', 'in_out'] as const).flatMap((layout) => [false, true].flatMap((withBias) => [1, 2].flatMap((scale) =>
    [37, 1].flatMap((N) => [8, 4].map((r) => ({ layout, withBias, scale, N, r }))))));
  for (const { layout, withBias, scale, N, r } of cases) {
    const w = randn(layout === 'out_in' ? [outF, inF] : [inF, outF], 11);
    const inputs = [randn([2, N, inF], 10), w, randn([r, inF], 12), randn([outF, r], 13), ...(withBias ? [randn([outF], 14)] : [])];
    const f = (x: tf.Tensor, W: tf.Tensor, a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor) => loraLinear(x, W, bias ?? null, a, b, scale, layout);
    const what = `loraLinear ${layout} bias ${withBias} scale ${scale} rows ${2 * N} rank ${r}`;
    await assertParity('native', what, inputs, f, 1e-4, 1e-5);
    // every input's gradient, W and bias included (the full fine-tuning + LoRA case)
    await assertGradParity('native', what, inputs, f, 1e-4, 1e-4);
  }
});

test('loraLinear: only the gradients the tape needs are computed (frozen x and W)', { skip }, async () => {
  await tf.setBackend('native');
  const x = tf.randomNormal([5, 6]);
  const w = tf.randomNormal([4, 6]);
  const a = tf.variable(tf.randomNormal([2, 6]), true, 'lora_only_a');
  const b = tf.variable(tf.randomNormal([4, 2]), true, 'lora_only_b');
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => tf.sum(loraLinear(x, w, null, a, b, 2)) as tf.Scalar, [a, b]);
  assert.deepEqual(Object.keys(grads).sort(), [a.name, b.name].sort());
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w, a, b]);
});

test('adamUpdate on native gives the same bits as the composite (Adam with L2, AdamW with decay), first and later steps', { skip }, async () => {
  const inputs = [randn([1000], 20), randn([1000], 21, 0.1), randn([1000], 22, 0.01), positive([1000], 23, 1e-6, 1e-3)];
  for (const s of [
    { lr: 1e-3, step: 1, betas: [0.9, 0.999] as [number, number], eps: 1e-8, l2: 0, decay: 1 - 1e-3 * 0.01 },
    { lr: 3e-3, step: 7, betas: [0.9, 0.98] as [number, number], eps: 1e-6, l2: 0.1, decay: 1 },
  ]) {
    const run = (first: boolean, fn: typeof adamUpdate) => (p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor) => {
      const r = fn(p, g, first ? null : [m, v], s);
      return [r.param, ...r.buffers];
    };
    for (const first of [true, false]) {
      const expected = await runOn('cpu', inputs, run(first, adamComposite));
      const actual = await runOn('native', inputs, run(first, adamUpdate));
      actual.forEach((o, k) => assert.deepEqual(o.values, expected[k]!.values, `adam output ${k} (first step: ${first})`));
    }
  }
});

test('sumSquares matches the composite', { skip }, async () => {
  const inputs = [randn([33], 30), randn([4, 5], 31), randn([1], 32)];
  await assertParity('native', 'sumSquares', inputs, (...xs: tf.Tensor[]) => sumSquares(xs), 1e-6, 1e-6);
});

test('no tensor leaks when the fused small ops train', { skip }, async () => {
  await tf.setBackend('native');
  const x = tf.randomNormal([16, 8]);
  const w = tf.variable(tf.ones([8]), true, 'small_leak_w');
  const a = tf.variable(tf.randomNormal([2, 8]), true, 'small_leak_a');
  const b = tf.variable(tf.randomNormal([8, 2]), true, 'small_leak_b');
  const W = tf.randomNormal([8, 8]);
  const step = () => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => {
      const h = rmsNorm(x, w, 1e-5);
      const y = loraLinear(h, W, null, a, b, 2);
      return tf.sum(swiglu(y, h)) as tf.Scalar;
    }, [w, a, b]);
    for (const v of [w, a, b]) v.assign(tf.sub(v, tf.mul(0.01, grads[v.name]!)));
  });
  await assertNoLeak('native', step);
  tf.dispose([x, w, a, b, W]);
});
