// Accuracy and F1 against scikit-learn's documented examples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, f1Score } from '../../../src/engine/metrics/index.js';

test('accuracy: sklearn accuracy_score docstring example', () => {
  // sklearn.metrics.accuracy_score docstring: y_pred = [0, 2, 1, 3], y_true = [0, 1, 2, 3] → 0.5
  assert.equal(accuracy([0, 1, 2, 3], [0, 2, 1, 3]), 0.5);
  assert.equal(accuracy(['a', 'b'], ['a', 'b']), 1);
  assert.equal(accuracy([], []), 0);
  assert.throws(() => accuracy([0], [0, 1]));
});

test('f1 binary: sklearn f1_score docstring (binary case)', () => {
  // sklearn.metrics.f1_score docstring (0.1x): y_pred = [0, 1, 0, 0], y_true = [0, 1, 0, 1] → 0.666...
  assert.ok(Math.abs(f1Score([0, 1, 0, 1], [0, 1, 0, 0]) - 2 / 3) < 1e-12);
});

test('f1 multiclass: sklearn f1_score docstring (macro, micro, weighted)', () => {
  // sklearn.metrics.f1_score docstring: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
  //   average='macro' → 0.26..., 'micro' → 0.33..., 'weighted' → 0.26..., None → [0.8, 0, 0]
  const yTrue = [0, 1, 2, 0, 1, 2];
  const yPred = [0, 2, 1, 0, 0, 1];
  assert.ok(Math.abs(f1Score(yTrue, yPred, { average: 'macro' }) - 0.8 / 3) < 1e-12);
  assert.ok(Math.abs(f1Score(yTrue, yPred, { average: 'micro' }) - 1 / 3) < 1e-12);
  assert.ok(Math.abs(f1Score(yTrue, yPred, { average: 'weighted' }) - 0.8 / 3) < 1e-12);
  assert.throws(() => f1Score(yTrue, yPred), /binary/);
});

test('f1 zero division: 0 by default, as sklearn with zero_division=0', () => {
  // sklearn.metrics.f1_score docstring: y_true = y_pred = [0, 0, 0, 0, 0, 0],
  //   f1_score(..., zero_division=1) → 1.0 (and 0.0 with zero_division=0)
  const zeros = [0, 0, 0, 0, 0, 0];
  assert.equal(f1Score(zeros, zeros), 0);
  assert.equal(f1Score(zeros, zeros, { zeroDivision: 1 }), 1);
  // A label that is never predicted nor true contributes 0 to a macro average over given labels.
  assert.ok(Math.abs(f1Score([0, 1], [0, 1], { average: 'macro', labels: [0, 1, 2] }) - 2 / 3) < 1e-12);
  assert.throws(() => f1Score([0, 2, 0], [2, 0, 0]), /pos_label 1/);
});
