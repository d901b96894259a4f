// The task mixture of joint training: the sampling rules' probabilities and what they draw, one
// task per batch, each task's own cursor, and a cursor that resumes the draw sequence exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskMixture } from '../../../src/engine/multitask/mixture.js';
import type { Batch, DataCursor, TrainBatches } from '../../../src/engine/data/batches.js';

/** A task of n examples in batches of 1 that says which task and example each batch is. */
function fake(task: number, n: number): TrainBatches {
  return {
    size: n,
    batchesPerEpoch: n,
    next: (c: DataCursor) => ({
      batch: { size: 1, seqLen: 1, inputIds: Int32Array.of(task * 1000 + c.index), attentionMask: Float32Array.of(1), tokens: 1 } as Batch,
      cursor: c.index + 1 >= n ? { epoch: c.epoch + 1, index: 0 } : { epoch: c.epoch, index: c.index + 1 },
    }),
  };
}

function draws(m: TaskMixture, n: number, from: DataCursor = { epoch: 0, index: 0 }): { ids: number[]; cursor: DataCursor } {
  let cursor = from;
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = m.next(cursor);
    ids.push(r.batch.inputIds[0]!);
    cursor = r.cursor;
  }
  return { ids, cursor };
}

test('proportional, temperature and round-robin: the probabilities and the draws follow them', () => {
  const tasks = [fake(0, 900), fake(1, 100)];
  const prop = new TaskMixture(tasks, { rule: 'proportional', temperature: 1 }, 0);
  assert.deepEqual(prop.probabilities.map((p) => p.toFixed(3)), ['0.900', '0.100']);
  const temp = new TaskMixture(tasks, { rule: 'temperature', temperature: 2 }, 0);
  assert.deepEqual(temp.probabilities.map((p) => p.toFixed(3)), ['0.750', '0.250']); // 30 : 10
  const share = (m: TaskMixture) => draws(m, 4000).ids.filter((id) => id < 1000).length / 4000;
  assert.ok(Math.abs(share(prop) - 0.9) < 0.02, `proportional draws ${share(prop)}`);
  assert.ok(Math.abs(share(temp) - 0.75) < 0.03, `temperature draws ${share(temp)}`);
  const rr = new TaskMixture(tasks, { rule: 'round-robin', temperature: 1 }, 0);
  assert.deepEqual(draws(rr, 4).ids, [0, 1000, 1, 1001]);
  assert.equal(prop.batchesPerEpoch, 1000);
  assert.equal(prop.size, 1000);
});

test('each task keeps its own cursor, and a saved cursor continues the same sequence', () => {
  const m = new TaskMixture([fake(0, 5), fake(1, 3), fake(2, 7)], { rule: 'proportional', temperature: 1 }, 42);
  const whole = draws(m, 40).ids;
  const first = draws(m, 17);
  const cursor = JSON.parse(JSON.stringify(first.cursor)) as DataCursor; // as a checkpoint stores it
  assert.deepEqual([...first.ids, ...draws(m, 23, cursor).ids], whole);
  for (const t of [0, 1, 2]) {
    const mine = whole.filter((id) => Math.floor(id / 1000) === t).map((id) => id % 1000);
    const n = [5, 3, 7][t]!;
    assert.deepEqual(mine, mine.map((_, i) => i % n), `task ${t} walks its own examples in order`);
  }
  assert.equal(draws(m, 15).cursor.epoch, 1, 'an epoch is as many draws as the tasks have batches');
});
