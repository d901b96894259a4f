// Matthews correlation against scikit-learn's docstring and its test suite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matthewsCorrcoef } from '../../../src/engine/metrics/index.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

test('binary: sklearn matthews_corrcoef docstring example', () => {
  // sklearn.metrics.matthews_corrcoef docstring: y_true = [+1, +1, +1, -1], y_pred = [+1, -1, +1, +1] → -0.33...
  close(matthewsCorrcoef([1, 1, 1, -1], [1, -1, 1, 1]), -1 / 3);
});

test('multiclass: sklearn test_matthews_corrcoef_multiclass', () => {
  // sklearn/metrics/tests/test_classification.py::test_matthews_corrcoef_multiclass
  close(matthewsCorrcoef([0, 0, 1, 1, 2, 2], [2, 2, 0, 0, 1, 1]), -0.5);
  close(matthewsCorrcoef([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 0, 0]), -12 / Math.sqrt(24 * 16));
  close(matthewsCorrcoef([0, 1, 2], [3, 3, 3]), 0);
  close(matthewsCorrcoef([3, 3, 3], [0, 1, 2]), 0);
  close(matthewsCorrcoef([0, 1, 2, 0, 1, 2, 0, 1, 2], [1, 1, 1, 2, 2, 2, 0, 0, 0]), 0);
  const letters = ['a', 'b', 'c', 'd', 'a', 'c', 'b', 'd', 'a'];
  close(matthewsCorrcoef(letters, letters), 1);
});

test('degenerate inputs: sklearn test_matthews_corrcoef', () => {
  // sklearn/metrics/tests/test_classification.py::test_matthews_corrcoef and _nan
  close(matthewsCorrcoef([0, 0, 0, 0], [0, 0, 0, 0]), 0);
  close(matthewsCorrcoef([0], [1]), 0);
  close(matthewsCorrcoef([0, 0], [0, 1]), 0);
  const y1 = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1];
  const y2 = [1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1];
  close(matthewsCorrcoef(y1, y2), 0);
  close(matthewsCorrcoef(y1, y1.map((v) => 1 - v)), -1);
});
