// The machinery every optimizer shares (base.ts): state round-trip, parameters without gradients,
// validation of gradients and of loaded state, and memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Adam } from '../../../../src/engine/train/optim/adam.js';
import { AdamW } from '../../../../src/engine/train/optim/adamw.js';
import { Lion } from '../../../../src/engine/train/optim/lion.js';
import { Sgd } from '../../../../src/engine/train/optim/sgd.js';
import type { Optimizer, OptimizerState, TensorData } from '../../../../src/engine/train/optim/optimizer.js';
import { joinOptimizerState, splitOptimizerState, type OptimizerStateMeta } from '../../../../src/engine/train/optim/state.js';
import { isPeftError } from '../../../../src/errors.js';
import { disposeMap, gradMap, useCpu, vars } from './helpers.js';

await useCpu();

type Make = (params: Map<string, tf.Variable>) => Optimizer;
const groups = [{ match: 'bias', weightDecay: 0, lr: 0.02 }];
const OPTIMIZERS: Record<string, Make> = {
  adamw: (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1, groups }),
  adam: (p) => new Adam(p, { lr: 0.01, weightDecay: 0.1, groups }),
  sgd: (p) => new Sgd(p, { lr: 0.05, momentum: 0.9, weightDecay: 0.01, groups }),
  'sgd-nesterov': (p) => new Sgd(p, { lr: 0.05, momentum: 0.9, nesterov: true, groups }),
  lion: (p) => new Lion(p, { lr: 0.001, weightDecay: 0.1, groups }),
};

const SHAPES: Record<string, number[]> = { 'a.weight': [3, 4], 'a.bias': [3], 'b.weight': [5] };

function initialParams(): Map<string, tf.Variable> {
  return vars(
    Object.fromEntries(
      Object.entries(SHAPES).map(([name, shape], k) => {
        const n = shape.reduce((x, y) => x * y, 1);
        return [name, { shape, data: Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + k)) }];
      }),
    ),
  );
}

/** Deterministic gradients for step s; `b.weight` only gets one on even steps (its own step count lags). */
function gradsAt(s: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  Object.entries(SHAPES).forEach(([name, shape], k) => {
    if (name === 'b.weight' && s % 2 === 1) return;
    const n = shape.reduce((x, y) => x * y, 1);
    out.set(name, tf.tensor(Array.from({ length: n }, (_, i) => Math.cos(0.7 * i * (s + 1) + k) * (1 + s)), shape, 'float32'));
  });
  return out;
}

function run(opt: Optimizer, from: number, to: number): void {
  for (let s = from; s < to; s++) {
    const g = gradsAt(s);
    opt.step(g, 1 - s / 20); // a decaying schedule factor
    disposeMap(g);
  }
}

/** What a checkpoint does: JSON for the metadata, raw little-endian bytes for the tensors. */
function throughCheckpoint(state: OptimizerState): OptimizerState {
  const { meta, tensors } = splitOptimizerState(state);
  const json = JSON.stringify(meta);
  const bytes = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, raw: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]));
  const back = new Map<string, TensorData>();
  for (const [k, { shape, raw }] of bytes) {
    const copy = Buffer.from(raw); // a new, aligned allocation
    back.set(k, { shape: [...shape], data: new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4).slice() });
  }
  return joinOptimizerState(JSON.parse(json) as OptimizerStateMeta, back);
}

function snapshot(params: Map<string, tf.Variable>): Record<string, Float32Array> {
  return Object.fromEntries([...params].map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
}

for (const [label, make] of Object.entries(OPTIMIZERS)) {
  test(`${label}: stopping, saving, loading and continuing is bit-identical to never stopping`, () => {
    const straightParams = initialParams();
    const straight = make(straightParams);
    run(straight, 0, 9);

    const firstParams = initialParams();
    const first = make(firstParams);
    run(first, 0, 5);
    const saved = throughCheckpoint(first.state());
    const values = snapshot(firstParams);
    first.dispose();

    // A new process: fresh variables with the checkpointed values, a fresh optimizer.
    const resumedParams = vars(Object.fromEntries(Object.entries(values).map(([k, d]) => [k, { shape: SHAPES[k]!, data: d }])));
    const resumed = make(resumedParams);
    resumed.load(saved);
    assert.equal(resumed.stepCount, 5);
    run(resumed, 5, 9);

    assert.equal(resumed.stepCount, straight.stepCount);
    assert.deepStrictEqual(snapshot(resumedParams), snapshot(straightParams));
    assert.deepStrictEqual(resumed.state(), straight.state());
    // b.weight got 5 of the 9 updates (steps 0, 2, 4, 6, 8); a.* got all 9.
    const st = straight.state();
    assert.equal(st.params['a.weight']!.step, 9);
    assert.equal(st.params['b.weight']!.step, 5);
    for (const o of [straight, resumed]) o.dispose();
    for (const p of [straightParams, firstParams, resumedParams]) for (const v of p.values()) v.dispose();
  });

  test(`${label}: tf.memory().numTensors is constant over 1000 steps`, () => {
    const params = initialParams();
    const opt = make(params);
    run(opt, 0, 2); // buffers are created on each parameter's first update
    const after2 = tf.memory().numTensors;
    for (let s = 0; s < 1000; s++) {
      const g = gradsAt(s % 2 === 0 ? 2 : 4); // every parameter, every step; values stay bounded
      opt.step(g, 0.5);
      disposeMap(g);
    }
    assert.equal(tf.memory().numTensors, after2);
    opt.state();
    assert.equal(tf.memory().numTensors, after2);
    const beforeDispose = tf.memory().numTensors;
    const buffers = Object.values(opt.state().params).reduce((n, p) => n + Object.keys(p.buffers).length, 0);
    opt.dispose();
    assert.equal(tf.memory().numTensors, beforeDispose - buffers);
    for (const v of params.values()) v.dispose();
  });
}

test('state() is a copy: changing it or stepping later does not touch the other', () => {
  const params = vars({ w: [1, 2] });
  const opt = new Adam(params, { lr: 0.1 });
  const g = gradMap({ w: [1, -1] });
  opt.step(g);
  const s1 = opt.state();
  const m = Array.from(s1.params['w']!.buffers['exp_avg']!.data);
  s1.params['w']!.buffers['exp_avg']!.data[0] = 42;
  assert.deepEqual(Array.from(opt.state().params['w']!.buffers['exp_avg']!.data), m);
  const s2 = opt.state();
  opt.step(g);
  assert.deepEqual(Array.from(s2.params['w']!.buffers['exp_avg']!.data), m);
  // load copies too: changing the loaded arrays afterwards does nothing.
  opt.load(s2);
  s2.params['w']!.buffers['exp_avg']!.data[0] = 42;
  assert.deepEqual(Array.from(opt.state().params['w']!.buffers['exp_avg']!.data), m);
  disposeMap(g);
  opt.dispose();
});

test('a parameter without a gradient this step is left alone, as torch skips grad None', () => {
  const params = vars({ a: [1], b: [1] });
  const opt = new Sgd(params, { lr: 0.1, momentum: 0.9 });
  const g = gradMap({ a: [1] });
  opt.step(g);
  assert.deepEqual(Array.from(params.get('b')!.dataSync()), [1]);
  assert.deepEqual(Object.keys(opt.state().params), ['a']);
  disposeMap(g);
  opt.dispose();
});

test('bad gradients are refused before anything changes', () => {
  const params = vars({ a: [1, 2], b: [3] });
  const opt = new AdamW(params, { lr: 0.1 });
  const unknown = gradMap({ a: [1, 1], c: [1] });
  assert.throws(() => opt.step(unknown), (e) => isPeftError(e) && e.code === 'RUN' && e.where === 'c');
  const misshapen = gradMap({ a: [1, 1], b: [1, 2] });
  assert.throws(() => opt.step(misshapen), (e) => isPeftError(e) && e.code === 'SHAPE' && e.where === 'b');
  assert.deepEqual(Array.from(params.get('a')!.dataSync()), [1, 2]);
  assert.equal(opt.stepCount, 0);
  assert.deepEqual(opt.state().params, {});
  const g = gradMap({ a: [1, 1] });
  assert.throws(() => opt.step(g, Number.NaN), /learning-rate factor/);
  for (const m of [unknown, misshapen, g]) disposeMap(m);
  opt.dispose();
});

test('load refuses state that does not fit, with a FORMAT error naming the tensor', () => {
  const params = vars({ w: [1, 2] });
  const opt = new Adam(params);
  const good: OptimizerState = {
    name: 'adam',
    stepCount: 3,
    params: { w: { step: 3, buffers: { exp_avg: { shape: [2], data: new Float32Array(2) }, exp_avg_sq: { shape: [2], data: new Float32Array(2) } } } },
  };
  const isFormat = (where?: string) => (e: unknown) => isPeftError(e) && e.code === 'FORMAT' && (where === undefined || e.where === where);
  assert.throws(() => opt.load({ ...good, name: 'adamw' }), isFormat());
  assert.throws(() => opt.load({ ...good, params: { v: good.params['w']! } }), isFormat('v'));
  const wrongShape = { step: 3, buffers: { ...good.params['w']!.buffers, exp_avg: { shape: [3], data: new Float32Array(3) } } };
  assert.throws(() => opt.load({ ...good, params: { w: wrongShape } }), isFormat('w'));
  const missing = { step: 3, buffers: { exp_avg: good.params['w']!.buffers['exp_avg']! } };
  assert.throws(() => opt.load({ ...good, params: { w: missing } }), isFormat('w'));
  assert.throws(() => opt.load({ ...good, params: { w: { ...good.params['w']!, step: 0 } } }), isFormat('w'));
  opt.load(good);
  assert.equal(opt.stepCount, 3);
  opt.dispose();
  assert.throws(() => opt.state(), /after dispose/);
});
