// A task's batches marked for the shared head: task ids, labels moved to the head's columns, the
// columns the batch ranges over; the loss and the predictions then range over those columns only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/fixtures.js';
import { forTask, taskView } from '../../../src/engine/multitask/task-batches.js';
import { batchClasses, lossOf } from '../../../src/engine/train/task-loss.js';
import type { Batch } from '../../../src/engine/data/batches.js';
import type { TaskEntryPlan } from '../../../src/plan/index.js';
import { makePlan, split } from '../../helpers/plans.js';

const ENTRY: TaskEntryPlan = {
  name: 'rte', id: 1, task: { type: 'seq-cls', numLabels: 2, labels: ['e', 'n'], pooling: null, labelSmoothing: 0 },
  data: { train: split('x.jsonl'), validation: null, test: null, columns: {}, maxLength: 16, packing: false, groupByLength: false, onError: 'fail' },
  metrics: ['f1'], headClasses: [2, 3],
};

test('forTask marks a batch: task ids, head columns, its classes; taskView is the task alone', () => {
  const b = { size: 2, seqLen: 1, inputIds: Int32Array.of(1, 2), attentionMask: Float32Array.of(1, 1), tokens: 2, labels: Float32Array.of(1, 0) } as Batch;
  const m = forTask(b, ENTRY);
  assert.deepEqual([Array.from(m.taskIds!), Array.from(m.labels!), m.classes], [[1, 1], [3, 2], [2, 3]]);
  assert.deepEqual(forTask(b, ENTRY, [0, 1, 2, 3]).classes, [0, 1, 2, 3]);
  const whole = { ...makePlan({ task: { type: 'seq-cls', numLabels: 4 }, data: { train: null } }), tasks: [ENTRY] };
  const view = taskView(whole, ENTRY);
  assert.deepEqual([view.task, view.eval.metrics, view.tasks, view.data.maxLength], [ENTRY.task, ['f1'], undefined, 16]);
});

test('the loss and the class logits range over the batch\'s columns only', async () => {
  await useBackend();
  const logits = tf.tensor2d([[5, -1, 0.5, 2], [0, 9, 1, -1]]);
  const b = { size: 2, labels: Float32Array.of(3, 2), classes: [2, 3] } as unknown as Batch;
  const r = batchClasses(logits as tf.Tensor2D, b);
  assert.deepEqual(r.logits.arraySync(), [[0.5, 2], [1, -1]]);
  assert.deepEqual(Array.from(r.labels!), [1, 0]);
  const task = ENTRY.task;
  const want = -(Math.log(Math.exp(2) / (Math.exp(0.5) + Math.exp(2))) + Math.log(Math.exp(1) / (Math.exp(1) + Math.exp(-1)))) / 2;
  assert.ok(Math.abs(lossOf({ logits } as never, task, b).dataSync()[0]! - want) < 1e-6);
  assert.throws(() => batchClasses(logits as tf.Tensor2D, { ...b, labels: Float32Array.of(0, 2) } as Batch), /not among its classes/);
});
