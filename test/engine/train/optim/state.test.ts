import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinOptimizerState, splitOptimizerState, type OptimizerStateMeta } from '../../../../src/engine/train/optim/state.js';
import { isPeftError } from '../../../../src/errors.js';

test('joinOptimizerState reports a tensor the metadata names but the file lacks', () => {
  const meta: OptimizerStateMeta = { name: 'lion', stepCount: 1, params: { w: { step: 1, buffers: { exp_avg: 'w.exp_avg' } } } };
  assert.throws(() => joinOptimizerState(meta, new Map(), 'ckpt/optimizer.safetensors'), (e) => isPeftError(e) && e.code === 'FORMAT' && e.where === 'ckpt/optimizer.safetensors');
});

test('splitOptimizerState names tensors <param>.<buffer> and keeps the mapping in the metadata', () => {
  const data = new Float32Array([1, 2]);
  const { meta, tensors } = splitOptimizerState({
    name: 'adamw',
    stepCount: 2,
    params: { 'x.lora_A.weight': { step: 2, buffers: { exp_avg: { shape: [2], data }, exp_avg_sq: { shape: [2], data } } } },
  });
  assert.deepEqual([...tensors.keys()], ['x.lora_A.weight.exp_avg', 'x.lora_A.weight.exp_avg_sq']);
  assert.deepEqual(meta, {
    name: 'adamw',
    stepCount: 2,
    params: { 'x.lora_A.weight': { step: 2, buffers: { exp_avg: 'x.lora_A.weight.exp_avg', exp_avg_sq: 'x.lora_A.weight.exp_avg_sq' } } },
  });
});

test('join inverts split', () => {
  const a = new Float32Array([1.5, -2]);
  const b = new Float32Array([0.25, 3]);
  const state = {
    name: 'adam' as const,
    stepCount: 7,
    params: { p: { step: 7, buffers: { exp_avg: { shape: [2], data: a }, exp_avg_sq: { shape: [1, 2], data: b } } }, q: { step: 2, buffers: {} } },
  };
  const { meta, tensors } = splitOptimizerState(state);
  assert.deepStrictEqual(joinOptimizerState(JSON.parse(JSON.stringify(meta)) as OptimizerStateMeta, tensors), state);
});
