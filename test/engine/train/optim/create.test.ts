import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptimizer } from '../../../../src/engine/train/optim/create.js';
import { Adam } from '../../../../src/engine/train/optim/adam.js';
import { AdamW } from '../../../../src/engine/train/optim/adamw.js';
import { Lion } from '../../../../src/engine/train/optim/lion.js';
import { Sgd } from '../../../../src/engine/train/optim/sgd.js';
import type { OptimizerPlan } from '../../../../src/plan/index.js';
import { assertClose, disposeMap, gradMap, useCpu, values, vars } from './helpers.js';

await useCpu();

const BASE: OptimizerPlan = { name: 'adamw', lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, groups: [] };

test('createOptimizer builds the optimizer the plan names', () => {
  const params = vars({ w: [1] });
  const cases = [
    ['adamw', AdamW],
    ['adam', Adam],
    ['sgd', Sgd],
    ['lion', Lion],
  ] as const;
  for (const [name, cls] of cases) {
    const opt = createOptimizer({ ...BASE, name }, params);
    assert.ok(opt instanceof cls, name);
    assert.equal(opt.name, name);
    opt.dispose();
  }
});

test('createOptimizer passes the plan through: lr, momentum, weight decay, groups', () => {
  // SGD μ 0.5, g = 1: b = 1 → p = −0.1; b = 1.5 → p = −0.25. The group doubles the lr.
  const params = vars({ w: [0], 'x.bias': [0] });
  const opt = createOptimizer({ ...BASE, name: 'sgd', momentum: 0.5, groups: [{ match: 'bias', lr: 0.2 }] }, params);
  const g = gradMap({ w: [1], 'x.bias': [1] });
  opt.step(g);
  opt.step(g);
  assertClose(values(params.get('w')!), [-0.25]);
  assertClose(values(params.get('x.bias')!), [-0.5]);
  disposeMap(g);
  opt.dispose();
  // Lion takes the plan's betas: with β2 = 0.5 the memory after one g = 1 is 0.5.
  const lion = createOptimizer({ ...BASE, name: 'lion', betas: [0.9, 0.5] }, params);
  const g1 = gradMap({ w: [1] });
  lion.step(g1);
  assertClose(lion.state().params['w']!.buffers['exp_avg']!.data, [0.5]);
  disposeMap(g1);
  lion.dispose();
});
