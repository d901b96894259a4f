import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lion } from '../../../../src/engine/train/optim/lion.js';
import { assertClose, disposeMap, gradMap, useCpu, values, vars } from './helpers.js';

await useCpu();

test('Lion: signed interpolation for the step, slower EMA for the memory', () => {
  // lr 0.1, betas (0.9, 0.99), wd 0, p = [1, −1, 0.5], m = 0.
  // t=1, g = [0.5, −2, 0]: c = 0.1·g = [0.05, −0.2, 0] → sign [1, −1, 0] → p = [0.9, −0.9, 0.5]
  //   m = 0.01·g = [0.005, −0.02, 0]
  // t=2, g = [−0.01, 1, 3]: c = 0.9·m + 0.1·g = [0.0045 − 0.001, −0.018 + 0.1, 0.3] = [0.0035, 0.082, 0.3]
  //   sign [1, 1, 1] (the first coordinate follows the memory, not the new gradient) → p = [0.8, −1.0, 0.4]
  //   m = 0.99·m + 0.01·g = [0.00495 − 0.0001, −0.0198 + 0.01, 0.03] = [0.00485, −0.0098, 0.03]
  const params = vars({ w: [1, -1, 0.5] });
  const opt = new Lion(params, { lr: 0.1 });
  const g1 = gradMap({ w: [0.5, -2, 0] });
  opt.step(g1);
  assertClose(values(params.get('w')!), [0.9, -0.9, 0.5]);
  assertClose(opt.state().params['w']!.buffers['exp_avg']!.data, [0.005, -0.02, 0]);
  const g2 = gradMap({ w: [-0.01, 1, 3] });
  opt.step(g2);
  assertClose(values(params.get('w')!), [0.8, -1.0, 0.4]);
  assertClose(opt.state().params['w']!.buffers['exp_avg']!.data, [0.00485, -0.0098, 0.03], 1e-5);
  disposeMap(g1);
  disposeMap(g2);
  opt.dispose();
});

test('Lion: decoupled weight decay, p ← p − lr·(sign(c) + wd·p)', () => {
  // lr 0.1, wd 0.5, p = 1, g = 1: p = 1 − 0.1·(1 + 0.5·1) = 0.85
  // t=2: m = 0.01, c = 0.9·0.01 + 0.1 = 0.109 > 0 → p = 0.85 − 0.1·(1 + 0.425) = 0.7075
  const params = vars({ w: [1] });
  const opt = new Lion(params, { lr: 0.1, weightDecay: 0.5 });
  const g = gradMap({ w: [1] });
  opt.step(g);
  assertClose(values(params.get('w')!), [0.85]);
  opt.step(g);
  assertClose(values(params.get('w')!), [0.7075]);
  disposeMap(g);
  opt.dispose();
});

test('Lion keeps one buffer, named exp_avg, and defaults to betas (0.9, 0.99)', () => {
  const params = vars({ w: [0] });
  const opt = new Lion(params);
  const g = gradMap({ w: [1] });
  opt.step(g);
  opt.step(g);
  // m = 0.99·0.01 + 0.01 = 0.0199 with β2 = 0.99 (0.001999 would mean 0.999)
  assertClose(opt.state().params['w']!.buffers['exp_avg']!.data, [0.0199], 1e-6);
  // lr 1e-4 by default: two signed steps of 1e-4
  assertClose(values(params.get('w')!), [-2e-4]);
  assert.deepEqual(Object.keys(opt.state().params['w']!.buffers), ['exp_avg']);
  disposeMap(g);
  opt.dispose();
});
