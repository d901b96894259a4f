// MOS against the authors' code (test/fixtures/reference/mos_cil): the adapter merge toward the
// mean of earlier stages' adapters (one step, as the paper and our strategy apply it), and the
// self-refined retrieval with and without the ensemble — visited adapters, final logits, scores
// and top-2 predictions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { Param } from '../../../src/engine/nn/module.js';
import { mosMerge, retrieve } from '../../../src/engine/continual/mos.js';

const PARTS = [0, 1].flatMap((l) => ['down_proj', 'up_proj'].flatMap((p) => ['weight', 'bias'].map((w) => `layer${l}.${p}.${w}`)));

test('merge: adapter ← 0.9·adapter + 0.1·mean(stage 0, stage 1), every weight and bias', async () => {
  await useBackend();
  const ref = reference('mos_cil');
  const live = new Map(PARTS.map((n) => {
    const p = new Param(ref.t(`cur_before.${n}`).shape);
    p.set(ref.t(`cur_before.${n}`));
    return [n, p];
  }));
  const stored = [0, 1].map((s) => new Map(PARTS.map((n) => [n, tf.keep(ref.t(`stage${s}_adapter.${n}`))])));
  mosMerge(live, stored, ref.case.config.adapter_momentum);
  for (const n of PARTS) assertClose(live.get(n)!.value, ref.j(`cur_after_merge.${n}`), n);
});

test('self-refined retrieval: adapter paths, final logits, ensemble scores and top-2, with and without the ensemble', async () => {
  await useBackend();
  const ref = reference('mos_cil');
  const feats = ref.t('retrieval.features');
  const logits = [0, 1, 2].map((t) => tf.add(tf.matMul(tf.squeeze(tf.slice(feats, [t, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D, ref.t('retrieval.head.weight') as tf.Tensor2D, false, true), ref.t('retrieval.head.bias')).arraySync() as number[][]);
  const orig = ref.t('retrieval.orig_logits').arraySync() as number[][];
  const cls2task = ref.ints('retrieval.cls2task');
  const cfg = ref.case.config.retrieval;
  const top2 = (rows: number[][]) => rows.flatMap((r) => r.map((v, c) => ({ v, c })).sort((a, b) => b.v - a.v).slice(0, 2).map((x) => x.c));
  for (const ensemble of [true, false]) {
    const name = ensemble ? 'ensemble' : 'no_ensemble';
    const r = retrieve(orig, (t) => logits[t]!, cls2task, cfg.MAX_ITER, ensemble, cfg.tasks);
    const padded = r.paths.flatMap((p) => [...p, ...new Array(4 - p.length).fill(-1)]);
    assert.deepEqual(padded, ref.ints(`retrieval.${name}.adapter_path`), `${name} paths`);
    assert.deepEqual(top2(r.scores), ref.ints(`retrieval.${name}.top2`), `${name} top-2`);
    if (ensemble) {
      assertClose(r.final.flat(), ref.j('retrieval.final_logits').data, 'final logits');
      assertClose(r.scores.flat(), ref.j('retrieval.ensemble_scores').data, 'ensemble scores');
      assert.deepEqual(Object.fromEntries(r.paths.map((p, i) => [String(i), p])), ref.case.scalars.retrieval_paths_ensemble);
    }
  }
});
