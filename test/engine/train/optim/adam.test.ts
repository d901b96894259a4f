import { test } from 'node:test';
import { Adam } from '../../../../src/engine/train/optim/adam.js';
import { assertClose, disposeMap, gradMap, useCpu, values, vars } from './helpers.js';

await useCpu();

test('Adam: two bias-corrected steps, worked by hand', () => {
  // lr 0.1, betas (0.5, 0.75), eps 0, p = [1, −1].
  // t=1, g = [2, −1]: m = 0.5·g = [1, −0.5], v = 0.25·g² = [1, 0.25]
  //   m̂ = m/0.5 = [2, −1], v̂ = v/0.25 = [4, 1] → m̂/√v̂ = [1, −1] → p = [0.9, −0.9]
  // t=2, g = [0, 2]: m = 0.5·m + 0.5·g = [0.5, 0.75], v = 0.75·v + 0.25·g² = [0.75, 1.1875]
  //   bias corrections 1 − 0.5² = 0.75 and 1 − 0.75² = 0.4375:
  //   m̂ = [2/3, 1], v̂ = [0.75/0.4375, 1.1875/0.4375] = [12/7, 19/7]
  //   p = [0.9 − 0.1·(2/3)/√(12/7), −0.9 − 0.1·1/√(19/7)] ≈ [0.849082, −0.960698]
  const params = vars({ w: [1, -1] });
  const opt = new Adam(params, { lr: 0.1, betas: [0.5, 0.75], eps: 0 });
  const g1 = gradMap({ w: [2, -1] });
  opt.step(g1);
  assertClose(values(params.get('w')!), [0.9, -0.9]);
  const g2 = gradMap({ w: [0, 2] });
  opt.step(g2);
  assertClose(values(params.get('w')!), [0.9 - (0.1 * (2 / 3)) / Math.sqrt(12 / 7), -0.9 - 0.1 / Math.sqrt(19 / 7)]);
  assertClose(values(params.get('w')!), [0.849082, -0.960698], 1e-6, 1e-6);
  disposeMap(g1);
  disposeMap(g2);
  opt.dispose();
});

test('Adam: weight decay is L2, added to the gradient before the moments', () => {
  // lr 0.1, betas (0.5, 0.75), eps 0, wd 0.5, p = 2, g = 1 on both steps.
  // t=1: g' = 1 + 0.5·2 = 2; m = 1, v = 1; m̂/√v̂ = 2/2 = 1 → p = 1.9
  // t=2: g' = 1 + 0.5·1.9 = 1.95; m = 0.5 + 0.975 = 1.475; v = 0.75 + 0.25·1.95² = 1.700625
  //   m̂ = 1.475/0.75, v̂ = 1.700625/0.4375 → p = 1.9 − 0.1·(1.475/0.75)/√(1.700625/0.4375) ≈ 1.800249
  const params = vars({ w: [2] });
  const opt = new Adam(params, { lr: 0.1, betas: [0.5, 0.75], eps: 0, weightDecay: 0.5 });
  const g = gradMap({ w: [1] });
  opt.step(g);
  assertClose(values(params.get('w')!), [1.9]);
  opt.step(g);
  assertClose(values(params.get('w')!), [1.9 - (0.1 * (1.475 / 0.75)) / Math.sqrt(1.700625 / 0.4375)]);
  assertClose(values(params.get('w')!), [1.800249], 1e-6, 1e-6);
  disposeMap(g);
  opt.dispose();
});
