// The registry: every metric by name, its result keys, and best-checkpoint direction.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetric, isImprovement, METRICS, metricInfo } from '../../../src/engine/metrics/index.js';

test('every registered metric computes and returns its primary key', () => {
  const inputs: Record<string, [unknown[], unknown[]]> = {
    labels: [[0, 1, 1, 0], [0, 1, 0, 0]],
    numbers: [[1, 2, 3, 4], [1.5, 2, 2.5, 5]],
    texts: [['the cat sat', 'a dog ran'], ['the cat sat down', 'the dog ran']],
    nll: [[1, 2], [1, 1]],
  };
  for (const [name, info] of Object.entries(METRICS)) {
    // task_mean is the mean of per-task results (engine/multitask/evaluate.ts), registered for its direction
    if (info.inputs === 'tasks') continue;
    const [pred, ref] = inputs[info.inputs] as [unknown[], unknown[]];
    const r = computeMetric(name, pred, ref);
    assert.ok(info.primary in r, `${name} returns ${info.primary}`);
    assert.equal(typeof r[info.primary], 'number');
  }
});

test('f1 is binary F1 of label 1 for 0/1 labels (GLUE MRPC/QQP), macro otherwise', () => {
  // sklearn f1_score docstring values: binary 0.666..., macro 0.266...
  assert.ok(Math.abs((computeMetric('f1', [0, 1, 0, 0], [0, 1, 0, 1]).f1 as number) - 2 / 3) < 1e-12);
  assert.ok(Math.abs((computeMetric('f1', [0, 2, 1, 0, 0, 1], [0, 1, 2, 0, 1, 2]).f1 as number) - 0.8 / 3) < 1e-12);
  assert.equal(computeMetric('accuracy', ['pos', 'neg'], ['pos', 'pos']).accuracy, 0.5);
  assert.throws(() => computeMetric('accuracy', [0], [0, 1]), /1 predictions but 2 references/);
  assert.throws(() => computeMetric('bertscore', [], []), /unknown metric "bertscore"/);
});

test('higherIsBetter and isImprovement for best-checkpoint selection', () => {
  assert.equal(metricInfo('loss').higherIsBetter, false);
  assert.equal(metricInfo('perplexity').higherIsBetter, false);
  for (const m of ['accuracy', 'f1', 'mcc', 'pearson', 'spearman', 'rouge', 'bleu']) assert.equal(metricInfo(m).higherIsBetter, true, m);
  assert.equal(metricInfo('rouge').primary, 'rougeL');
  assert.ok(isImprovement('accuracy', 0.9, 0.8));
  assert.ok(!isImprovement('accuracy', 0.8, 0.8));
  assert.ok(isImprovement('loss', 1.2, 1.5));
  assert.ok(isImprovement('loss', 1.2, null));
  assert.ok(!isImprovement('pearson', NaN, 0.1));
  assert.ok(isImprovement('pearson', 0.1, NaN));
});
