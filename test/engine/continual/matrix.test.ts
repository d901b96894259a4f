// The stream measures from an accuracy matrix, by hand: average accuracy after each stage and at
// the end, average incremental accuracy, forgetting (best earlier score minus final) and backward
// transfer (final minus just-learned); loss-scored tasks left out of the means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { streamMeasures } from '../../../src/engine/continual/matrix.js';

test('average accuracy, forgetting and backward transfer of a three-task stream', () => {
  const m = streamMeasures(['a', 'b', 'c'], [
    [0.9, null, null],
    [0.7, 0.8, null],
    [0.6, 0.85, 0.5],
  ], [true, true, true]);
  const close = (x: number | null, y: number) => assert.ok(x !== null && Math.abs(x - y) < 1e-12, `${x} ≠ ${y}`);
  close(m.average_by_stage[0]!, 0.9);
  close(m.average_by_stage[1]!, 0.75);
  close(m.average_accuracy, (0.6 + 0.85 + 0.5) / 3);
  close(m.average_incremental_accuracy, (0.9 + 0.75 + 0.65) / 3);
  close(m.forgetting, ((0.9 - 0.6) + (0.8 - 0.85)) / 2); // b's best before the last stage is 0.8: it improved (−0.05)
  close(m.backward_transfer, ((0.6 - 0.9) + (0.85 - 0.8)) / 2);
});

test('one task: no forgetting to measure; a language-modelling task stays out of the means', () => {
  assert.equal(streamMeasures(['a'], [[0.7]], [true]).forgetting, null);
  const m = streamMeasures(['lm', 'cls'], [[3.1, null], [3.4, 0.8]], [false, true]);
  assert.equal(m.average_accuracy, 0.8);
  assert.equal(m.forgetting, null);
});
