import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Sgd } from '../../../../src/engine/train/optim/sgd.js';
import { isPeftError } from '../../../../src/errors.js';
import { assertClose, disposeMap, gradMap, useCpu, values, vars } from './helpers.js';

await useCpu();

const G1 = { w: [1, 2] };
const G2 = { w: [-1, 0.5] };

function run(options: ConstructorParameters<typeof Sgd>[1]): number[][] {
  const params = vars({ w: [1, -1] });
  const opt = new Sgd(params, options);
  const out: number[][] = [];
  for (const spec of [G1, G2]) {
    const g = gradMap(spec);
    opt.step(g);
    disposeMap(g);
    out.push(values(params.get('w')!));
  }
  opt.dispose();
  params.get('w')!.dispose();
  return out;
}

test('SGD with momentum: b = g on the first step, then b ← μ·b + g', () => {
  // lr 0.1, μ 0.9, p = [1, −1]
  // t=1: b = g1 = [1, 2]                      → p = [1 − 0.1, −1 − 0.2] = [0.9, −1.2]
  // t=2: b = 0.9·[1, 2] + [−1, 0.5] = [−0.1, 2.3] → p = [0.9 + 0.01, −1.2 − 0.23] = [0.91, −1.43]
  const [p1, p2] = run({ lr: 0.1, momentum: 0.9 });
  assertClose(p1!, [0.9, -1.2]);
  assertClose(p2!, [0.91, -1.43]);
});

test('SGD with Nesterov momentum: direction g + μ·b', () => {
  // t=1: b = [1, 2]; d = [1, 2] + 0.9·[1, 2] = [1.9, 3.8]          → p = [0.81, −1.38]
  // t=2: b = [−0.1, 2.3]; d = [−1, 0.5] + 0.9·b = [−1.09, 2.57]    → p = [0.919, −1.637]
  const [p1, p2] = run({ lr: 0.1, momentum: 0.9, nesterov: true });
  assertClose(p1!, [0.81, -1.38]);
  assertClose(p2!, [0.919, -1.637]);
});

test('SGD without momentum, with L2 weight decay: p ← p − lr·(g + wd·p)', () => {
  // wd 0.1. t=1: d = [1, 2] + 0.1·[1, −1] = [1.1, 1.9] → p = [0.89, −1.19]
  // t=2: d = [−1, 0.5] + 0.1·[0.89, −1.19] = [−0.911, 0.381] → p = [0.9811, −1.2281]
  const [p1, p2] = run({ lr: 0.1, weightDecay: 0.1 });
  assertClose(p1!, [0.89, -1.19]);
  assertClose(p2!, [0.9811, -1.2281]);
});

test('SGD without momentum keeps no buffers; Nesterov without momentum is refused', () => {
  const params = vars({ w: [1] });
  const opt = new Sgd(params, { lr: 0.1 });
  const g = gradMap({ w: [1] });
  const before = tf.memory().numTensors;
  opt.step(g);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(opt.state().params, { w: { step: 1, buffers: {} } });
  disposeMap(g);
  assert.throws(() => new Sgd(params, { lr: 0.1, nesterov: true }), (e) => isPeftError(e) && e.code === 'RECIPE' && e.where === 'optimizer.momentum');
});

test('the momentum buffer is the optimizer’s own, not the caller’s gradient tensor', () => {
  const params = vars({ w: [1] });
  const opt = new Sgd(params, { lr: 0.1, momentum: 0.5 });
  const g = gradMap({ w: [1] });
  opt.step(g);
  disposeMap(g); // the caller frees its gradient; the buffer (b = g) must survive
  assert.deepEqual(Array.from(opt.state().params['w']!.buffers['momentum_buffer']!.data), [1]);
  const g2 = gradMap({ w: [1] });
  opt.step(g2); // b = 0.5·1 + 1 = 1.5 → p = 0.9 − 0.15
  assertClose(values(params.get('w')!), [0.75]);
  disposeMap(g2);
  opt.dispose();
});
