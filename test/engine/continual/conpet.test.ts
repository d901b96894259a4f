// ConPET's selector against the authors' code (test/fixtures/reference/conpet): top-k task
// selection (ties in task order; teacher forcing replaces the lowest-ranked pick), and the
// assembled prediction — null logits everywhere, each selected expert's logits in its labels'
// columns, log-softmax — with the weighted training loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { assembleLogits, selectTasks } from '../../../src/engine/continual/conpet.js';

const TASKS: Record<string, number[]> = { p1: [0, 1], p2: [2, 3, 4], p3: [5, 6] };
const ORDER = ['p1', 'p2', 'p3'];

test('top-k selection, with and without teacher forcing, and the assembled log-probabilities and loss', async () => {
  await useBackend();
  const ref = reference('conpet');
  const scores = ref.t('selector_logits').arraySync() as number[][];
  const tags = ref.ints('tags');
  const truth = tags.map((y) => ORDER.findIndex((t) => TASKS[t]!.includes(y)));
  const experts = [ref.t('expert_p1.expert_logits'), ref.t('expert_p2.expert_logits'), ref.t('current.expert_logits')].map((t) => t.arraySync() as number[][]);
  const weights = ref.t('loss_weights').dataSync();
  assertClose(tf.logSoftmax(ref.t('selector_logits')), ref.j('selector_log_softmax'), 'selector log-softmax');
  for (const k of [1, 2]) {
    for (const mode of ['test', 'train'] as const) {
      const picked = selectTasks(scores, k, mode === 'train' ? truth : null);
      assert.deepEqual(picked.flat(), ref.ints(`k${k}.${mode}.selected`), `k${k} ${mode} selection`);
      assert.deepEqual(picked.map((r) => r.map((t) => ORDER[t])), ref.case.scalars[`k${k}.${mode}.selected`]);
      const logits = assembleLogits(7, picked, (t) => experts[t]!, (t) => TASKS[ORDER[t]!]!, ref.case.config.null_expert_logit);
      const logProbs = tf.logSoftmax(tf.tensor2d(logits));
      assertClose(logProbs, ref.j(`k${k}.${mode}.log_probs`), `k${k} ${mode} log-probabilities`);
      if (mode === 'train') {
        const lp = logProbs.arraySync() as number[][];
        const loss = -tags.reduce((a, y, i) => a + weights[y]! * lp[i]![y]!, 0) / tags.length;
        assertClose([loss], [ref.case.scalars[`k${k}.train.loss`]], `k${k} loss`);
      }
    }
  }
  assert.deepEqual(selectTasks([[1, 1, 0]], 1), [[0]], 'ties keep task order');
  assert.deepEqual(selectTasks([[3, 2, 1]], 5), [[0, 1, 2]], 'k at least the tasks: every task');
});
