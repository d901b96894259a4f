// Module sizes against the backbone's real dimensions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sizeProblems, type ModelSizes, type ModulePlan } from '../../src/plan/index.js';

const SIZES: ModelSizes = { hidden: 64, layers: 5, heads: 8, kvHeads: 4, headDim: 8, intermediate: 172, vocab: 512, maxPositions: 512, positionsKey: 'max_position_embeddings' };
const mod = (fn: string, options: Record<string, unknown>, positions: string[]) => ({ function: fn, options, positions }) as unknown as ModulePlan;

test('a rank is at most the narrowest projection it adapts', () => {
  assert.deepEqual(sizeProblems(mod('lowrank', { rank: 32 }, ['attn.query', 'attn.value']), SIZES, 128), []);
  const [p] = sizeProblems(mod('lowrank', { rank: 33 }, ['attn.query', 'attn.value']), SIZES, 128);
  assert.equal(p!.key, 'rank');
  assert.match(p!.message, /rank 33 is larger than the projection it adapts at attn\.value \(32 wide\)/);
  assert.match(sizeProblems(mod('svd', { rank: 65 }, ['ffn.down_proj']), SIZES, 128)[0]!.message, /\(64 wide\)/);
  assert.equal(sizeProblems(mod('hadamard', { rank: 65 }, ['attn.query']), SIZES, 128).length, 1);
});

test('adapters and prefix MLPs are bounded by the hidden size', () => {
  assert.deepEqual(sizeProblems(mod('bottleneck', { bottleneck: 1024 }, ['ffn.output']), SIZES, 128), []);
  assert.match(sizeProblems(mod('bottleneck', { bottleneck: 1025 }, ['ffn.output']), SIZES, 128)[0]!.message, /more than 16× the model's hidden size 64/);
  assert.equal(sizeProblems(mod('prefix', { length: 4, reparam: { hidden: 5000 } }, ['attn.heads']), SIZES, 128)[0]!.key, 'reparam');
});

test('virtual tokens must fit the model\'s positions', () => {
  assert.deepEqual(sizeProblems(mod('prompt', { length: 384 }, ['embeddings']), SIZES, 128), []);
  assert.match(sizeProblems(mod('prompt', { length: 385 }, ['embeddings']), SIZES, 128)[0]!.message, /need 513 positions; the model has 512/);
  assert.deepEqual(sizeProblems(mod('prefix', { length: 500 }, ['attn.heads']), SIZES, 128), []);
  assert.match(sizeProblems(mod('prefix', { length: 500, shift_positions: true }, ['attn.heads']), SIZES, 128)[0]!.message, /628 positions/);
  assert.match(sizeProblems(mod('prefix', { length: 600 }, ['attn.heads']), SIZES, 128)[0]!.message, /longer than the model's 512 positions/);
  assert.deepEqual(sizeProblems(mod('prefix', { length: 600 }, ['attn.heads']), { ...SIZES, maxPositions: null }, 128), []);
});
