// Python peft 0.13.2's merge_utils on three fixed 6×5 task tensors (../shared merge-utils.json):
// task arithmetic, magnitude pruning, TIES with both sign elections, the majority-sign masks;
// DARE's random drop by its defining properties (its mask comes from torch's RNG there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SKIP_NO_SHARED, assertClose, fixture, readJson, type JsonTensor } from '../../helpers/fixtures.js';
import {
  dareLinear, dareTies, magnitudePrune, majoritySignMask, pruneMagnitude, pruneRandom, taskArithmetic, ties,
} from '../../../src/engine/merge/task-vectors.js';
import { uniformStream } from '../../../src/engine/random.js';

interface MergeUtils { tasks: JsonTensor[]; weights: number[]; cases: Record<string, JsonTensor> }

function load(): { tasks: Float32Array[]; weights: number[]; cases: Record<string, JsonTensor> } {
  const f = readJson<MergeUtils>(join(fixture('peft-0.13'), 'merge-utils.json'));
  return { tasks: f.tasks.map((t) => Float32Array.from(t.data)), weights: f.weights, cases: f.cases };
}

test('task arithmetic, magnitude prune and TIES equal peft 0.13.2 merge_utils', { skip: SKIP_NO_SHARED }, () => {
  const { tasks, weights, cases } = load();
  assertClose(taskArithmetic(tasks, weights), cases.task_arithmetic, 'task_arithmetic');
  for (const d of [0.3, 0.6]) {
    assertClose(magnitudePrune(tasks, weights, d), cases[`magnitude_prune_d${d}`], `magnitude_prune d=${d}`);
    for (const m of ['total', 'frequency'] as const) assertClose(ties(tasks, weights, d, m), cases[`ties_d${d}_${m}`], `ties d=${d} ${m}`);
  }
  tasks.forEach((t, i) => assertClose(pruneMagnitude(t, 0.4), cases[`prune_magnitude_task${i}_d0.4`], `prune task ${i}`));
  for (const m of ['total', 'frequency'] as const) {
    const masks = majoritySignMask(tasks, m);
    assert.deepEqual(Array.from(masks.flatMap((x) => Array.from(x))), cases[`majority_sign_mask_${m}`].data, `majority sign ${m}`);
  }
});

test('magnitude pruning keeps ⌊density·n⌋ entries; density 1 is the identity', () => {
  const t = Float32Array.from([0.1, -3, 2, -0.5, 0.25, 4, -1]);
  const p = pruneMagnitude(t, 0.5);
  assert.deepEqual(Array.from(p).map(Math.abs), [0, 3, 2, 0, 0, 4, 0]);
  assert.equal(pruneMagnitude(t, 1), t);
});

test('DARE: about density of the entries survive, rescaled by 1/density; at density 1 it is task arithmetic', () => {
  const n = 20000;
  const next = uniformStream(7);
  const t = Float32Array.from({ length: n }, () => next() - 0.5);
  const p = pruneRandom(t, 0.3, true, uniformStream(1));
  let kept = 0;
  for (let j = 0; j < n; j++) {
    if (p[j] !== 0) {
      kept++;
      assert.ok(Math.abs(p[j] - t[j] / 0.3) < 1e-6, 'kept entries are rescaled by 1/density');
    }
  }
  assert.ok(Math.abs(kept / n - 0.3) < 0.02, `kept fraction ${kept / n}`);
  const tasks = [t, Float32Array.from(t, (v) => -v * 0.5)];
  assert.deepEqual(dareLinear(tasks, [0.7, 0.5], 1, uniformStream(3)), taskArithmetic(tasks, [0.7, 0.5]));
  // dare_ties at density 1 is TIES at density 1 (nothing trimmed)
  assert.deepEqual(dareTies(tasks, [0.7, 0.5], 1, uniformStream(3)), ties(tasks, [0.7, 0.5], 1));
});
