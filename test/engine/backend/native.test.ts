// The native backend's kernels against tfjs-backend-cpu: values and gradients, random shapes
// with broadcasting, transposes and batch dimensions. Skipped (with the reason) when the
// OpenBLAS addon is not built; CI builds it (.ci/run installs libopenblas-dev).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients, initBackend, listBackends } from '../../../src/engine/backend/index.js';
import { assertClose, assertGradParity, assertNoLeak, assertParity, bools, ints, positive, randn, runOn } from './parity.js';

await ensureGradients();
const status = (await listBackends()).find((s) => s.name === 'native');
const skip = status?.available ? false : `native backend unavailable: ${status?.reason}`;
if (!skip) await initBackend('native');
const N = 'native';

test('BatchMatMul: every transpose combination, 2-D', { skip }, async () => {
  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    const a = randn(ta ? [7, 5] : [5, 7], 1);
    const b = randn(tb ? [3, 7] : [7, 3], 2);
    await assertParity(N, `matMul ta=${ta} tb=${tb}`, [a, b], (x, y) => tf.matMul(x, y, ta, tb));
    await assertGradParity(N, `matMul ta=${ta} tb=${tb}`, [a, b], (x, y) => tf.matMul(x, y, ta, tb));
  }
});

test('BatchMatMul: batch dimensions and their broadcasting', { skip }, async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false],
    [[4, 5], [2, 5, 6], false, false],
    [[3, 5, 4], [1, 6, 5], true, true],
    [[2, 3, 4, 5], [5, 6], false, false],
    [[16, 4, 9, 8], [16, 4, 9, 8], false, true],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const what = `matMul ${sa}×${sb} ta=${ta} tb=${tb}`;
    await assertParity(N, what, [randn(sa, 3), randn(sb, 4)], (x, y) => tf.matMul(x, y, ta, tb));
    // tfjs's BatchMatMul gradient does not reduce over broadcast batch dims (on any backend).
    if (sa.slice(0, -2).join() === sb.slice(0, -2).join()) {
      await assertGradParity(N, what, [randn(sa, 3), randn(sb, 4)], (x, y) => tf.matMul(x, y, ta, tb));
    }
  }
});

test('BatchMatMul: batch dims that broadcast both ways (numpy rules; cpu needs them tiled)', { skip }, async () => {
  const a = randn([2, 1, 4, 5], 5);
  const b = randn([3, 5, 6], 6);
  const actual = await runOn(N, [a, b], (x, y) => tf.matMul(x, y));
  const expected = await runOn('cpu', [a, b], (x, y) => tf.matMul(tf.broadcastTo(x, [2, 3, 4, 5]), tf.broadcastTo(y, [2, 3, 5, 6])));
  assertClose(actual, expected, 'matMul [2,1,4,5]×[3,5,6]');
});

test('BatchMatMul: empty inner dimension gives zeros; mismatched shapes throw as on cpu', { skip }, async () => {
  await assertParity(N, 'matMul k=0', [randn([3, 0], 1), randn([0, 4], 2)], (x, y) => tf.matMul(x, y));
  await tf.setBackend(N);
  assert.throws(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2])), /inner shapes/);
});

test('_FusedMatMul: bias shapes and activations', { skip }, async () => {
  const acts = ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu'] as const;
  const biases = [[6], [1], [4, 6], [2, 1, 6], [4, 1]];
  for (const act of acts) {
    for (const bs of biases) {
      const what = `fused.matMul act=${act} bias=${bs}`;
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, transposeB: true, bias: b, activation: act, leakyreluAlpha: 0.1 });
      await assertParity(N, what, [randn([2, 4, 5], 5, 2), randn([6, 5], 6), randn(bs, 7)], f);
    }
  }
  const prelu = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, al: tf.Tensor) =>
    tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: 'prelu', preluActivationWeights: al });
  await assertParity(N, 'fused.matMul prelu', [randn([4, 5], 8), randn([5, 6], 9), randn([6], 10), randn([6], 11)], prelu);
});

test('_FusedMatMul: gradients (linear, relu, with bias)', { skip }, async () => {
  for (const act of ['linear', 'relu'] as const) {
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, transposeB: true, bias: b, activation: act });
    await assertGradParity(N, `fused.matMul ${act}`, [randn([8, 5], 12), randn([6, 5], 13), randn([6], 14)], f);
  }
});

const BINARY: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum], ['minimum', tf.minimum],
  ['squaredDifference', tf.squaredDifference], ['prelu', tf.prelu],
];
const BROADCASTS: [number[], number[]][] = [
  [[3, 4], [3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[], [5]], [[1], [2, 3]], [[2, 3, 1, 5], [3, 4, 1]],
  [[700, 64], [700, 64]], [[64, 700], [700]],
];

test('binary ops with broadcasting, values and gradients', { skip }, async () => {
  for (const [name, op] of BINARY) {
    for (const [sa, sb] of BROADCASTS) {
      // prelu broadcasts alpha to x, never x to alpha (its gradient assumes so)
      if (name === 'prelu' && tf.backend_util.assertAndGetBroadcastShape(sa, sb).join() !== sa.join()) continue;
      const b = name === 'div' ? positive(sb, 22) : randn(sb, 22);
      await assertParity(N, `${name} ${sa}&${sb}`, [randn(sa, 21), b], op);
      // tfjs's SquaredDifference gradient does not reduce over broadcast dims (on any backend).
      const gradOk = name !== 'maximum' && name !== 'minimum' && (name !== 'squaredDifference' || sa.join() === sb.join());
      if (gradOk) await assertGradParity(N, `${name} ${sa}&${sb}`, [randn(sa, 21), b], op);
    }
  }
  await assertParity(N, 'pow', [positive([3, 4], 23), randn([4], 24)], tf.pow);
  await assertGradParity(N, 'pow', [positive([3, 4], 23), randn([4], 24)], tf.pow, 1e-3);
});

test('comparisons give bools; int32 inputs fall back to cpu', { skip }, async () => {
  const ops = [tf.equal, tf.notEqual, tf.less, tf.lessEqual, tf.greater, tf.greaterEqual];
  const a = randn([3, 4], 31);
  const b = { ...randn([4], 32) };
  b.values[1] = a.values[1]; // some equal elements
  for (const op of ops) await assertParity(N, op.name, [a, b], op);
  await assertParity(N, 'add int32', [ints([3, 4], 33, -5, 5), ints([4], 34, -5, 5)], tf.add);
});

const UNARY: [string, (x: tf.Tensor) => tf.Tensor, 'any' | 'pos'][] = [
  ['exp', tf.exp, 'any'], ['log', tf.log, 'pos'], ['tanh', tf.tanh, 'any'], ['sigmoid', tf.sigmoid, 'any'],
  ['sqrt', tf.sqrt, 'pos'], ['rsqrt', tf.rsqrt, 'pos'], ['square', tf.square, 'any'], ['neg', tf.neg, 'any'],
  ['abs', tf.abs, 'any'], ['relu', tf.relu, 'any'], ['erf', tf.erf, 'any'], ['softplus', tf.softplus, 'any'],
  ['reciprocal', tf.reciprocal, 'pos'], ['step', (x) => tf.step(x, 0.3), 'any'], ['relu6', tf.relu6, 'any'],
  ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), 'any'], ['elu', tf.elu, 'any'], ['log1p', tf.log1p, 'pos'],
  ['expm1', tf.expm1, 'any'], ['clipByValue', (x) => tf.clipByValue(x, -0.5, 0.7), 'any'],
];

test('unary ops, values (incl. large tensors split over threads) and gradients', { skip }, async () => {
  for (const [name, op, domain] of UNARY) {
    for (const shape of [[3, 5], [40000]]) {
      const x = domain === 'pos' ? positive(shape, 41) : randn(shape, 41, 4);
      await assertParity(N, `${name} ${shape}`, [x], op, 2e-5, 1e-6);
    }
    if (name !== 'step') await assertGradParity(N, name, [domain === 'pos' ? positive([3, 5], 42) : randn([3, 5], 42, 2)], op);
  }
  await assertParity(N, 'softplus extremes', [{ shape: [4], dtype: 'float32', values: new Float32Array([-30, -10, 10, 30]) }], tf.softplus);
});

test('NaN propagates as on cpu (relu, max, maximum, softmax)', { skip }, async () => {
  const x = { shape: [2, 3], dtype: 'float32' as const, values: new Float32Array([1, NaN, -2, 3, 4, -5]) };
  await assertParity(N, 'relu NaN', [x], tf.relu);
  await assertParity(N, 'max NaN', [x], (t) => tf.max(t, -1));
  await assertParity(N, 'min NaN axis 0', [x], (t) => tf.min(t, 0));
  await assertParity(N, 'maximum NaN', [x, randn([3], 1)], tf.maximum);
  await assertParity(N, 'softmax NaN', [x], (t) => tf.softmax(t));
});

test('reductions over any axes, keepDims, values and gradients', { skip }, async () => {
  const ops: [string, (x: tf.Tensor, axis: number | number[] | null, keep: boolean) => tf.Tensor][] = [
    ['sum', (x, a, k) => tf.sum(x, a, k)], ['mean', (x, a, k) => tf.mean(x, a, k)], ['max', (x, a, k) => tf.max(x, a, k)],
    ['min', (x, a, k) => tf.min(x, a, k)], ['prod', (x, a, k) => tf.prod(x, a, k)],
  ];
  const axes: (number | number[] | null)[] = [null, 0, -1, 1, [0, 2], [1, 2], [0, 1, 2], [2, 0]];
  for (const [name, op] of ops) {
    for (const axis of axes) {
      for (const keep of [false, true]) {
        const what = `${name} axis=${JSON.stringify(axis)} keepDims=${keep}`;
        const x = randn([3, 4, 5], 51, name === 'prod' ? 1.5 : 1);
        await assertParity(N, what, [x], (t) => op(t, axis, keep), 1e-5, 1e-5);
        if (!keep && name !== 'prod') await assertGradParity(N, what, [x], (t) => op(t, axis, keep));
      }
    }
  }
  await assertParity(N, 'sum large rows', [randn([300, 2000], 52)], (t) => tf.sum(t, -1), 1e-5, 1e-4);
  await assertParity(N, 'sum large cols', [randn([2000, 300], 53)], (t) => tf.sum(t, 0), 1e-5, 1e-4);
  await assertParity(N, 'sum int32 (cpu path)', [ints([3, 4], 54, -9, 9)], (t) => tf.sum(t, 1));
});

test('softmax and logSoftmax over the last axis, values and gradients', { skip }, async () => {
  for (const shape of [[7], [3, 9], [2, 4, 33], [16, 4, 128, 128]]) {
    const x = randn(shape, 61, 5);
    await assertParity(N, `softmax ${shape}`, [x], (t) => tf.softmax(t), 1e-5, 1e-6);
    await assertParity(N, `logSoftmax ${shape}`, [x], (t) => tf.logSoftmax(t), 1e-5, 1e-5);
    if (shape.length < 4) {
      await assertGradParity(N, `softmax ${shape}`, [x], (t) => tf.softmax(t));
      await assertGradParity(N, `logSoftmax ${shape}`, [x], (t) => tf.logSoftmax(t));
    }
  }
});

test('transpose: any permutation, float32 and int32, with gradients', { skip }, async () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [1, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 4, 5], [3, 1, 0, 2]],
    [[5, 1, 3], [1, 2, 0]], [[4, 70, 90], [0, 2, 1]], [[16, 128, 4, 64], [0, 2, 1, 3]], [[1, 1], [1, 0]],
  ];
  for (const [shape, perm] of cases) {
    await assertParity(N, `transpose ${shape} ${perm}`, [randn(shape, 71)], (t) => tf.transpose(t, perm), 0, 0);
    await assertParity(N, `transpose int32 ${shape} ${perm}`, [ints(shape, 72, -100, 100)], (t) => tf.transpose(t, perm), 0, 0);
  }
  await assertGradParity(N, 'transpose', [randn([2, 3, 4], 73)], (t) => tf.transpose(t, [1, 2, 0]));
});

test('gather (rows of any axis) and its gradient, unsortedSegmentSum', { skip }, async () => {
  await assertParity(N, 'gather axis 0', [randn([10, 4], 81), ints([7], 82, 0, 10)], (x, i) => tf.gather(x, i), 0, 0);
  await assertParity(N, 'gather axis 1, 2-D indices', [randn([3, 10, 4], 83), ints([2, 5], 84, 0, 10)], (x, i) => tf.gather(x, i, 1), 0, 0);
  await assertParity(N, 'gather int32', [ints([10, 4], 85, -9, 9), ints([6], 86, 0, 10)], (x, i) => tf.gather(x, i), 0, 0);
  await assertGradParity(N, 'gather axis 0', [randn([10, 4], 87), ints([25], 88, 0, 10)], (x, i) => tf.gather(x, i));
  await assertGradParity(N, 'gather axis 1', [randn([3, 10, 4], 89), ints([12], 90, 0, 10)], (x, i) => tf.gather(x, i, 1));
  await assertParity(N, 'unsortedSegmentSum', [randn([9, 3], 91), ints([9], 92, -1, 6)], (x, i) => tf.unsortedSegmentSum(x, i, 5));
  await tf.setBackend(N);
  assert.throws(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')), /index value 3 is not in \[0, 2\]/);
});

test('select (where): full and broadcast conditions, with gradients', { skip }, async () => {
  await assertParity(N, 'where full', [bools([3, 4], 101), randn([3, 4], 102), randn([3, 4], 103)], (c, a, b) => tf.where(c, a, b), 0, 0);
  await assertParity(N, 'where broadcast', [bools([4], 104), randn([3, 4], 105), randn([3, 4], 106)], (c, a, b) => tf.where(c, a, b), 0, 0);
  await assertGradParity(N, 'where', [bools([3, 4], 107), randn([3, 4], 108), randn([3, 4], 109)], (c, a, b) => tf.where(c, a, b));
});

test('kernels do not leak tensors; outputs read by dataSync are never recycled', { skip }, async () => {
  await tf.setBackend(N);
  const x = tf.randomNormal([64, 32]);
  const w = tf.randomNormal([32, 16]);
  const step = () =>
    tf.tidy(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.softmax(tf.tanh(tf.matMul(a, b)))))([x, w]);
      return tf.add(tf.sum(g[0]), tf.mean(g[1]));
    }).dispose();
  await assertNoLeak(N, step);
  // A value read by the user must survive later kernels reusing memory.
  const y = tf.mul(x, 2);
  const seen = y.dataSync();
  const copy = Array.from(seen);
  y.dispose();
  for (let i = 0; i < 5; i++) tf.tidy(() => tf.add(tf.mul(x, 3), 1));
  assert.deepEqual(Array.from(seen), copy);
  tf.dispose([x, w]);
});

test('a slice sharing a recycled buffer keeps its values', { skip }, async () => {
  const r = await runOn(N, [randn([4, 8], 111)], (x) => {
    const y = tf.mul(x, 2); // native output (pooled)
    const s = tf.slice(y, [1, 0], [2, 8]); // cpu kernel: a view of y's buffer
    y.dispose();
    for (let i = 0; i < 4; i++) tf.mul(x, 5).dispose(); // would reuse y's buffer if it were free
    return s;
  });
  const e = await runOn('cpu', [randn([4, 8], 111)], (x) => tf.slice(tf.mul(x, 2), [1, 0], [2, 8]));
  assert.deepEqual(r[0].values, e[0].values);
});

test('tile and broadcastTo, float32 and int32, with gradients', { skip }, async () => {
  const cases: [number[], number[]][] = [[[3], [4]], [[2, 3], [2, 3]], [[128, 4], [16, 1]], [[2, 1, 3], [1, 5, 2]], [[1, 1], [3, 1]]];
  for (const [shape, reps] of cases) {
    await assertParity(N, `tile ${shape} ${reps}`, [randn(shape, 121)], (t) => tf.tile(t, reps), 0, 0);
    await assertParity(N, `tile int32 ${shape} ${reps}`, [ints(shape, 122, -9, 9)], (t) => tf.tile(t, reps), 0, 0);
    await assertGradParity(N, `tile ${shape} ${reps}`, [randn(shape, 123)], (t) => tf.tile(t, reps));
  }
  await assertParity(N, 'broadcastTo', [randn([3, 1], 124)], (t) => tf.broadcastTo(t, [2, 3, 4]), 0, 0);
});

test('slice (strided and contiguous) and pad, float32 and int32, with gradients', { skip }, async () => {
  const slices: [number[], number[], number[]][] = [
    [[16, 12, 8], [0, 0, 0], [16, 1, 8]], [[5, 6], [1, 2], [3, 3]], [[4, 5, 6], [1, 0, 2], [2, -1, 3]], [[7], [2], [4]], [[3, 4], [1, 0], [2, 4]],
  ];
  for (const [shape, begin, sz] of slices) {
    await assertParity(N, `slice ${shape} ${begin} ${sz}`, [randn(shape, 131)], (t) => tf.slice(t, begin, sz), 0, 0);
    await assertParity(N, `slice int32 ${shape}`, [ints(shape, 132, -9, 9)], (t) => tf.slice(t, begin, sz), 0, 0);
    await assertGradParity(N, `slice ${shape} ${begin} ${sz}`, [randn(shape, 133)], (t) => tf.slice(t, begin, sz));
  }
  const pads: [number[], [number, number][]][] = [[[2, 3], [[1, 0], [2, 1]]], [[3, 1, 2], [[0, 0], [2, 2], [0, 1]]], [[4], [[3, 0]]]];
  for (const [shape, p] of pads) {
    await assertParity(N, `pad ${shape}`, [randn(shape, 134)], (t) => tf.pad(t, p, 0.25), 0, 0);
    await assertParity(N, `pad int32 ${shape}`, [ints(shape, 135, -9, 9)], (t) => tf.pad(t, p, 7), 0, 0);
    await assertGradParity(N, `pad ${shape}`, [randn(shape, 136)], (t) => tf.pad(t, p));
  }
});
