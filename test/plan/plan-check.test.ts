// A recorded plan read back from disk: its shape is checked before the engine trusts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planShapeProblem } from '../../src/plan/index.js';
import { makePlan, split } from '../helpers/plans.js';

const plan0 = () => JSON.parse(JSON.stringify(makePlan({ task: { type: 'causal-lm' }, data: { train: split('/data/train.txt') } }))) as Record<string, any>;

test('a plan the planner made has a plan\'s shape', () => {
  assert.equal(planShapeProblem(plan0()), null);
});

test('empty, truncated and mistyped records name the first key at fault', () => {
  const plan = plan0();
  assert.equal(planShapeProblem(null), 'holds nothing, not a plan');
  assert.equal(planShapeProblem([1]), 'holds a list, not a plan');
  assert.equal(planShapeProblem({ name: 'x' }), 'seed is missing');
  assert.equal(planShapeProblem({ ...plan, training: { ...plan.training, batchSize: 'two' } }), 'training.batchSize must be a positive integer (got "two")');
  assert.equal(planShapeProblem({ ...plan, method: { ...plan.method, modules: [{ function: 'lowrank' }] } }), 'method.modules[0] is not a module plan (function, positions, options)');
  assert.equal(planShapeProblem({ ...plan, data: { ...plan.data, train: { format: 'text' } } }), 'data.train.path must be a path');
});
