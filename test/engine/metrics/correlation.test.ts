// Pearson and Spearman against scipy.stats's documented examples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averageRanks, pearson, spearman } from '../../../src/engine/metrics/index.js';

test('pearson: scipy.stats.pearsonr docstring example', () => {
  // scipy.stats.pearsonr docs: x, y = [1, 2, 3, 4, 5, 6, 7], [10, 9, 2.5, 6, 4, 3, 2]
  //   → PearsonRResult(statistic=-0.828503883588428, pvalue=0.021280260007523286)
  assert.ok(Math.abs(pearson([1, 2, 3, 4, 5, 6, 7], [10, 9, 2.5, 6, 4, 3, 2]) - -0.828503883588428) < 1e-12);
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-15);
  assert.ok(pearson([1, 2, 3], [2, 4, 6]) <= 1);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), 'constant input: NaN, as scipy');
});

test('spearman with ties (average ranks): scipy.stats.spearmanr docstring example', () => {
  // scipy.stats.spearmanr docs: spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic → 0.8207826816681233
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
  // scipy.stats.rankdata docs: rankdata([0, 2, 3, 2]) → [1. , 2.5, 4. , 2.5]
  assert.deepEqual(averageRanks([0, 2, 3, 2]), [1, 2.5, 4, 2.5]);
});
