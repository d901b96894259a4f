// The Step Law (Li et al. 2025): its two formulas, the batch size of a run whose length is
// given in steps (D depends on B), and the values a plan gets from stories260K and its data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStepLaw, nonEmbeddingParams, stepLawBatchTokens, stepLawBatchTokensForSteps, stepLawLr } from '../../../src/engine/train/step-law.js';
import { buildBackbone } from '../../../src/engine/backbones/index.js';
import { makePlan, split, STORIES } from '../../helpers/plans.js';

test('η = 1.79·N^-0.713·D^0.307 and B = 0.58·D^0.571 (tokens)', () => {
  // a 1B-non-embedding-parameter model on 100B tokens: the paper's own scale
  assert.ok(Math.abs(stepLawLr(1e9, 1e11) - 1.79 * Math.exp(-0.713 * Math.log(1e9) + 0.307 * Math.log(1e11))) < 1e-15);
  // log10 η = log10 1.79 − 0.713·9 + 0.307·11 = −2.787 → 1.63e-3; log10 B = log10 0.58 + 0.571·11 = 6.044 → 1.11M tokens
  assert.equal(stepLawLr(1e9, 1e11).toPrecision(3), '0.00163');
  assert.equal((stepLawBatchTokens(1e11) / 1e6).toPrecision(3), '1.11');
  // D = S·B and B = 0.58·D^0.571 solved together: B satisfies both
  const s = 300;
  const b = stepLawBatchTokensForSteps(s);
  assert.ok(Math.abs(b - stepLawBatchTokens(s * b)) / b < 1e-9, `${b} vs ${stepLawBatchTokens(s * b)}`);
});

test('stories260K: N counts no embedding; epochs give D from the data; auto batch size in examples', () => {
  const { model } = buildBackbone(STORIES, { task: 'causal-lm' });
  const n = nonEmbeddingParams(model);
  // 5 layers × (attention 64·64·2 + 64·32·2 + FFN 3·64·172 + 2 norms of 64) + final norm 64
  assert.equal(n, 5 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 172 + 2 * 64) + 64);
  const base = makePlan({ task: { type: 'causal-lm' }, data: { train: split('x.txt') }, training: { maxSteps: null, epochs: 2, batchSize: NaN }, optimizer: { lr: NaN } });
  const plan = { ...base, stepLaw: { lr: true, batchSize: true } };
  const r = applyStepLaw(plan, model, { examples: 1000, tokens: 128_000 });
  assert.equal(r.d, 256_000);
  assert.equal(r.batchTokens, Math.round(0.58 * 256_000 ** 0.571));
  assert.equal(r.batchSize, Math.round(0.58 * 256_000 ** 0.571 / 128));
  assert.equal(r.lr, Number(stepLawLr(n, 256_000).toPrecision(3)));
  assert.equal(r.plan.optimizer.lr, r.lr);
  assert.equal(r.plan.training.batchSize, r.batchSize);
  assert.equal('stepLaw' in r.plan, false);
  // a given batch size stays; D = steps × batch × tokens per example
  const fixed = applyStepLaw({ ...makePlan({ task: { type: 'causal-lm' }, data: { train: split('x.txt') }, training: { maxSteps: 100, batchSize: 8 } }), stepLaw: { lr: true, batchSize: false } }, model, { examples: 1000, tokens: 128_000 });
  assert.equal(fixed.d, 100 * 8 * 128);
  assert.equal(fixed.batchSize, null);
  assert.equal(fixed.plan.training.batchSize, 8);
});
