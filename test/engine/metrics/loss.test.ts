// Loss and perplexity: a streaming mean of token NLL, independent of batching.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetric, LossAccumulator } from '../../../src/engine/metrics/index.js';

test('perplexity of a uniform model over V tokens is V (exp of the mean NLL ln V)', () => {
  const acc = new LossAccumulator();
  for (let i = 0; i < 1000; i++) acc.add(Math.log(50257), 1);
  assert.ok(Math.abs(acc.perplexity - 50257) < 1e-6);
  assert.equal(acc.tokens, 1000);
});

test('batching does not change the result: sums with token counts equal per-token values', () => {
  const nll = Array.from({ length: 999 }, (_, i) => 0.5 + ((i * 7919) % 1000) / 250);
  const perToken = new LossAccumulator();
  perToken.addAll(nll);
  const batched = new LossAccumulator();
  for (let i = 0; i < nll.length; i += 37) {
    const part = nll.slice(i, i + 37);
    batched.add(part.reduce((a, b) => a + b, 0), part.length);
  }
  const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
  assert.ok(Math.abs(perToken.loss - mean) < 1e-12);
  assert.ok(Math.abs(batched.loss - mean) < 1e-12);
  assert.ok(Math.abs(batched.perplexity - Math.exp(mean)) < 1e-9);
  assert.ok(Number.isNaN(new LossAccumulator().loss));
  assert.throws(() => perToken.add(NaN));
});

test('compensated summation keeps a long stream exact', () => {
  const acc = new LossAccumulator();
  for (let i = 0; i < 1_000_000; i++) acc.add(0.1, 1);
  assert.ok(Math.abs(acc.loss - 0.1) < 1e-15);
});

test('registry: loss and perplexity from per-example NLL sums and token counts', () => {
  const r = computeMetric('perplexity', [2 * Math.log(4), 3 * Math.log(4)], [2, 3]);
  assert.ok(Math.abs(r.perplexity - 4) < 1e-12);
  assert.ok(Math.abs(r.loss - Math.log(4)) < 1e-12);
});
