// The wasm backend is complete for training: every kernel the engine's ops and their
// gradients use is registered for wasm, each op matches the cpu backend (values and gradients),
// and a small MLP with an embedding lookup gets the same gradients on wasm and on cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend/index.js';
import { assertClose, assertGradParity, assertNoLeak, assertParity, bools, ints, positive, randn, runOn, type Input } from './parity.js';

await initBackend('wasm');

/**
 * Kernels the engine relies on: those of the ops it uses (matMul, add, sub, mul, div, exp, log,
 * sqrt, rsqrt, square, tanh, sigmoid, relu, gelu via erf or tanh, softmax, logSoftmax, sum,
 * mean, max, gather, concat, slice, transpose, reshape, oneHot, where, maximum, minimum, pow,
 * cast, tile, pad, cumsum, sin, cos, neg, abs, sign, isNaN, isFinite, unsortedSegmentSum) and
 * those that tfjs-core's gradients of these ops call (from tfjs-core/dist/gradients/*_grad.js).
 */
export const ENGINE_KERNELS = [
  // forward
  'BatchMatMul', '_FusedMatMul', 'Add', 'AddN', 'Sub', 'Multiply', 'RealDiv', 'Exp', 'Log', 'Sqrt', 'Rsqrt', 'Square',
  'Tanh', 'Sigmoid', 'Relu', 'Erf', 'Softmax', 'Sum', 'Mean', 'Max', 'Min', 'GatherV2', 'Concat', 'Slice', 'StridedSlice',
  'Transpose', 'Reshape', 'OneHot', 'Select', 'Maximum', 'Minimum', 'Pow', 'Cast', 'Tile', 'PadV2', 'Cumsum', 'Sin',
  'Cos', 'Neg', 'Abs', 'Sign', 'IsNan', 'IsFinite', 'UnsortedSegmentSum', 'Identity', 'ArgMax', 'Prod', 'Einsum',
  'Softplus', 'Selu', 'Relu6', 'LeakyRelu', 'Elu', 'Log1p', 'Expm1', 'Reciprocal', 'SquaredDifference', 'ClipByValue',
  'Prelu', 'Mod', 'FloorDiv', 'Atan2', 'Range',
  // convolutional backbones (conv2d, depthwise, pooling) and their gradients
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter', 'MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad',
  // used by the gradients of the above
  'Fill', 'ZerosLike', 'OnesLike', 'Pack', 'Unpack', 'SplitV', 'Step', 'Equal', 'NotEqual', 'Greater', 'GreaterEqual',
  'Less', 'LessEqual', 'LogicalAnd', 'LogicalNot', 'ExpandDims', 'Floor', 'EluGrad', 'Cumprod',
];

test('wasm has every kernel the engine relies on', () => {
  const missing = ENGINE_KERNELS.filter((k) => tf.getKernel(k, 'wasm') == null);
  assert.deepEqual(missing, [], `missing on wasm: ${missing.join(', ')}`);
});

type Case = [string, Input[], (...xs: tf.Tensor[]) => tf.Tensor, boolean?];

const geluErf = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
const geluTanh = (x: tf.Tensor) =>
  tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI))), 1));

/** [name, inputs, f, gradient checked (default true)] */
const CASES: Case[] = [
  ['matMul', [randn([5, 7], 1), randn([7, 3], 2)], (a, b) => tf.matMul(a, b)],
  ['matMul tA', [randn([7, 5], 1), randn([7, 3], 2)], (a, b) => tf.matMul(a, b, true, false)],
  ['matMul tB', [randn([5, 7], 1), randn([3, 7], 2)], (a, b) => tf.matMul(a, b, false, true)],
  ['matMul batched tA tB', [randn([2, 7, 5], 1), randn([2, 3, 7], 2)], (a, b) => tf.matMul(a, b, true, true)],
  ['fused.matMul bias relu', [randn([5, 7], 1), randn([7, 3], 2), randn([3], 3)],
    (a, b, c) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu' })],
  ['add broadcast', [randn([2, 3, 4], 4), randn([4], 5)], tf.add],
  ['sub broadcast', [randn([2, 3, 4], 4), randn([3, 1], 5)], tf.sub],
  ['mul broadcast', [randn([2, 3, 4], 4), randn([1, 4], 5)], tf.mul],
  ['div', [randn([3, 4], 6), positive([4], 7)], tf.div],
  ['addN', [randn([3, 4], 6), randn([3, 4], 7), randn([3, 4], 8)], (a, b, c) => tf.addN([a, b, c])],
  ['exp', [randn([3, 4], 8)], tf.exp],
  ['log', [positive([3, 4], 9)], tf.log],
  ['sqrt', [positive([3, 4], 10)], tf.sqrt],
  ['rsqrt', [positive([3, 4], 11)], tf.rsqrt],
  ['square', [randn([3, 4], 12)], tf.square],
  ['tanh', [randn([3, 4], 13, 3)], tf.tanh],
  ['sigmoid', [randn([3, 4], 14, 3)], tf.sigmoid],
  ['relu', [randn([3, 4], 15)], tf.relu],
  ['gelu (erf)', [randn([3, 4], 16, 3)], geluErf],
  ['gelu (tanh)', [randn([3, 4], 17, 3)], geluTanh],
  ['softmax', [randn([3, 5], 18, 3)], (x) => tf.softmax(x)],
  ['logSoftmax', [randn([3, 5], 19, 3)], (x) => tf.logSoftmax(x)],
  ['sum axis', [randn([3, 4, 5], 20)], (x) => tf.sum(x, [0, 2])],
  ['mean keepDims', [randn([3, 4], 21)], (x) => tf.mean(x, -1, true)],
  ['max', [randn([3, 4], 22)], (x) => tf.max(x, 1)],
  ['min', [randn([3, 4], 22)], (x) => tf.min(x, 0)],
  ['prod', [randn([3, 4], 22)], (x) => tf.prod(x, 1)],
  ['gather', [randn([10, 4], 23), ints([7], 24, 0, 10)], (x, i) => tf.gather(x, i)],
  ['concat', [randn([2, 3], 25), randn([2, 5], 26)], (a, b) => tf.concat([a, b], 1)],
  ['slice', [randn([4, 6], 27)], (x) => tf.slice(x, [1, 2], [2, 3])],
  ['stridedSlice', [randn([6, 6], 27)], (x) => tf.stridedSlice(x, [0, 1], [6, 5], [2, 1]), false], // tfjs has no gradient for it
  ['transpose', [randn([2, 3, 4], 28)], (x) => tf.transpose(x, [2, 0, 1])],
  ['reshape', [randn([2, 6], 29)], (x) => tf.reshape(x, [3, 4])],
  ['oneHot', [ints([5], 30, 0, 4)], (i) => tf.oneHot(i, 4), false],
  ['where', [bools([3, 4], 31), randn([3, 4], 32), randn([3, 4], 33)], (c, a, b) => tf.where(c, a, b)],
  ['maximum', [randn([3, 4], 34), randn([3, 4], 35)], tf.maximum], // its gradient does not reduce broadcasts
  ['minimum', [randn([3, 4], 34), randn([3, 4], 35)], tf.minimum],
  ['pow', [positive([3, 4], 36), randn([3, 4], 37)], tf.pow],
  ['cast int32→float32', [ints([3, 4], 38, -5, 5)], (x) => tf.cast(x, 'float32'), false],
  ['cast float32→int32', [randn([3, 4], 39, 5)], (x) => tf.cast(x, 'int32'), false],
  ['tile', [randn([2, 3], 40)], (x) => tf.tile(x, [2, 3])],
  ['pad', [randn([2, 3], 41)], (x) => tf.pad(x, [[1, 0], [2, 1]], 0.5)],
  ['cumsum', [randn([3, 4], 42)], (x) => tf.cumsum(x, 1)],
  ['sin', [randn([3, 4], 43, 3)], tf.sin],
  ['cos', [randn([3, 4], 44, 3)], tf.cos],
  ['neg', [randn([3, 4], 45)], tf.neg],
  ['abs', [randn([3, 4], 46)], tf.abs],
  ['sign', [randn([3, 4], 47)], tf.sign],
  ['isNaN', [{ shape: [4], dtype: 'float32', values: new Float32Array([1, NaN, Infinity, -2]) }], (x) => tf.isNaN(x), false],
  ['isFinite', [{ shape: [4], dtype: 'float32', values: new Float32Array([1, NaN, Infinity, -2]) }], (x) => tf.isFinite(x), false],
  ['unsortedSegmentSum', [randn([6, 3], 48), ints([6], 49, 0, 4)], (x, i) => tf.unsortedSegmentSum(x, i, 4)],
  ['softplus', [randn([3, 4], 50, 3)], tf.softplus],
  ['selu', [randn([3, 4], 51, 3)], tf.selu],
  ['relu6', [randn([3, 4], 52, 8)], tf.relu6],
  ['leakyRelu', [randn([3, 4], 53)], (x) => tf.leakyRelu(x, 0.1)],
  ['elu', [randn([3, 4], 54)], tf.elu],
  ['log1p', [positive([3, 4], 55)], tf.log1p],
  ['expm1', [randn([3, 4], 56)], tf.expm1],
  ['reciprocal', [positive([3, 4], 57)], tf.reciprocal],
  ['squaredDifference', [randn([3, 4], 58), randn([3, 4], 59)], tf.squaredDifference],
  ['clipByValue', [randn([3, 4], 60)], (x) => tf.clipByValue(x, -0.4, 0.6)],
  ['prelu', [randn([3, 4], 61), randn([4], 62)], tf.prelu],
  ['mod', [positive([3, 4], 63), positive([4], 64)], tf.mod, false],
  ['floorDiv', [randn([3, 4], 65, 5), positive([4], 66)], tf.floorDiv, false],
  ['atan2', [randn([3, 4], 67), randn([3, 4], 68)], tf.atan2],
  ['einsum', [randn([2, 3], 69), randn([3, 4], 70)], (a, b) => tf.einsum('ij,jk->ik', a, b), false], // no gradient in tfjs
  ['argMax', [randn([3, 4], 71)], (x) => tf.argMax(x, 1), false],
];

test('every op matches the cpu backend: values and gradients', async () => {
  for (const [name, inputs, f, grad] of CASES) {
    await assertParity('wasm', name, inputs, f, 1e-5, 1e-5);
    if (grad !== false) await assertGradParity('wasm', name, inputs, f, 1e-4, 1e-5);
  }
});

/** A 2-layer MLP over an embedding lookup, with a softmax cross-entropy loss. */
function mlpLoss(ids: tf.Tensor, labels: tf.Tensor, p: Record<string, tf.Variable>): tf.Scalar {
  const x = tf.reshape(tf.gather(p.emb, ids), [-1, 12]); // [batch, seq·dim]
  const h = geluTanh(tf.add(tf.matMul(x, p.w1, false, true), p.b1));
  const logits = tf.add(tf.matMul(h, p.w2), p.b2);
  return tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

test('a 2-layer MLP with an embedding gets the same gradients on wasm and cpu (1e-5)', async () => {
  const inputs: Input[] = [
    ints([8, 3], 80, 0, 20), // token ids: batch 8, 3 tokens
    { shape: [8, 5], dtype: 'float32', values: tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), 5).dataSync() as Float32Array) },
    randn([20, 4], 81, 0.5), // emb
    randn([16, 12], 82, 0.3), // w1 [out, in]
    randn([16], 83, 0.1),
    randn([16, 5], 84, 0.3),
    randn([5], 85, 0.1),
  ];
  const run = (ids: tf.Tensor, labels: tf.Tensor, ...ws: tf.Tensor[]) => {
    const names = ['emb', 'w1', 'b1', 'w2', 'b2'];
    const p = Object.fromEntries(ws.map((w, i) => [names[i], tf.variable(w, true, `mlp_${names[i]}_${tf.getBackend()}`)]));
    const { value, grads } = tf.variableGrads(() => mlpLoss(ids, labels, p), Object.values(p));
    const out = [value, ...names.map((n) => grads[p[n].name])];
    Object.values(p).forEach((v) => v.dispose());
    return out;
  };
  const expected = await runOn('cpu', inputs, run);
  const actual = await runOn('wasm', inputs, run);
  assertClose(actual, expected, 'MLP loss and gradients', 1e-5, 1e-7);
});

test('training steps on wasm do not leak tensors', async () => {
  await tf.setBackend('wasm');
  const p = {
    emb: tf.variable(tf.randomNormal([20, 4]), true, 'leak_emb'),
    w1: tf.variable(tf.randomNormal([16, 12]), true, 'leak_w1'),
    b1: tf.variable(tf.zeros([16]), true, 'leak_b1'),
    w2: tf.variable(tf.randomNormal([16, 5]), true, 'leak_w2'),
    b2: tf.variable(tf.zeros([5]), true, 'leak_b2'),
  };
  const ids = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
  const labels = tf.oneHot(tf.tensor1d([0, 3], 'int32'), 5);
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => mlpLoss(ids, labels, p), Object.values(p));
      for (const v of Object.values(p)) v.assign(tf.sub(v, tf.mul(0.1, grads[v.name])));
    });
  await assertNoLeak('wasm', step);
  tf.dispose([ids, labels, ...Object.values(p)]);
});

test('wasm uses every core (threaded XNNPACK) and a process using it still exits', async () => {
  const { spawnSync } = await import('node:child_process');
  const { availableParallelism } = await import('node:os');
  const code = `
    const { initBackend } = await import(${JSON.stringify(new URL('../../../src/engine/backend/index.ts', import.meta.url).href)});
    const tf = await import('@tensorflow/tfjs-core');
    const info = await initBackend('wasm');
    tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).dataSync();
    console.log('threads=' + info.threads);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `child exited with ${r.status} (signal ${r.signal}): ${r.stderr.slice(-500)}`);
  const threads = Number(/threads=(\d+)/.exec(r.stdout)?.[1]);
  assert.equal(threads, availableParallelism());
});
