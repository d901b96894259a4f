// The pre-training scan: statistics of every split, and the errors it turns into.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PeftError } from '../../../src/errors.js';
import { checkScan, scanData, scanSplit } from '../../../src/engine/data/index.js';
import type { DataSplitPlan } from '../../../src/plan/index.js';
import { needsShared, SHARED_DATA, scratch } from './helpers/paths.js';

const TASK = { type: 'seq-cls', labels: ['unacceptable', 'acceptable'], numLabels: 2 } as const;

test('scan of CoLA: rows, no bad rows, label distribution by name; a seeded split of train', { skip: needsShared() }, async () => {
  const train: DataSplitPlan = { path: join(SHARED_DATA, 'cola', 'train.jsonl'), format: 'jsonl', limit: null, split: null };
  const dev: DataSplitPlan = { path: join(SHARED_DATA, 'cola', 'dev.jsonl'), format: 'jsonl', limit: null, split: null };
  const r = await scanData({ train, validation: dev, test: null, columns: {} }, { task: TASK, seed: 0 });
  // cola/PROVENANCE.md: train {'0': 2528, '1': 6023}; dev {'0': 258, '1': 576}
  assert.deepEqual(r.train?.labelCounts, { unacceptable: 2528, acceptable: 6023 });
  assert.deepEqual(r.validation?.labelCounts, { unacceptable: 258, acceptable: 576 });
  assert.equal(r.train?.examples, 8551);
  assert.equal(r.train?.badRows, 0);
  const heldOut = await scanData({ train, validation: { ...train, split: { of: 'train', fraction: 0.1, part: 'tail' } }, test: null, columns: {} }, { task: TASK, seed: 0 });
  assert.equal(heldOut.validation?.rows, 855);
  assert.equal(heldOut.train?.rows, 8551 - 855);
  const sum = (c: Record<string, number> | undefined) => Object.values(c ?? {}).reduce((a, b) => a + b, 0);
  assert.equal(sum(heldOut.train?.labelCounts) + sum(heldOut.validation?.labelCounts), 8551);
});

test('scan collects every bad row; checkScan raises the first under fail, passes under skip', async () => {
  const s = scratch();
  try {
    const path = s.file(
      'train.jsonl',
      ['{"text": "a", "label": 1}', '{"text": "b", "label": 5}', 'not json', '{"text": "c", "label": 0}', '{"text": "d", "label": "x"}'].join('\n'),
    );
    const plan: DataSplitPlan = { path, format: 'jsonl', limit: null, split: null };
    const r = await scanSplit('train', plan, { task: { type: 'seq-cls', labels: null, numLabels: 2 }, seed: 0 });
    assert.equal(r.sourceRows, 5);
    assert.equal(r.examples, 2);
    assert.equal(r.badRows, 3);
    assert.equal(r.bad.label?.count, 2);
    assert.equal(r.bad.json?.count, 1);
    assert.match(r.bad.label?.first ?? '', /train\.jsonl:2$/);
    assert.deepEqual(r.labelCounts, { 0: 1, 1: 1 });
    assert.throws(() => checkScan(r, plan, 'fail'), (e: unknown) => e instanceof PeftError && e.code === 'DATA' && /train\.jsonl:2$/.test(e.where ?? '') && /\(and 2 more bad rows in split train\)$/.test(e.message));
    assert.equal(checkScan(r, plan, 'skip'), r);
    const empty = s.file('empty.jsonl', '');
    const re = await scanSplit('test', { ...plan, path: empty }, { task: { type: 'seq-cls', labels: null, numLabels: 2 }, seed: 0 });
    assert.throws(() => checkScan(re, { ...plan, path: empty }, 'skip'), (e: unknown) => e instanceof PeftError && /split test has no examples/.test(e.message));
  } finally {
    s.cleanup();
  }
});

test('scan of a regression split reports the target range', async () => {
  const s = scratch();
  try {
    const path = s.file('stsb.csv', 'sentence1,sentence2,label\na,b,0.5\nc,d,4.5\ne,f,2.5\n');
    const r = await scanSplit('train', { path, format: 'csv', limit: 2, split: null }, { task: { type: 'regression', labels: null, numLabels: null }, seed: 0 });
    assert.deepEqual(r.targets, { min: 0.5, max: 4.5, mean: 2.5 });
    assert.equal(r.examples, 2);
  } finally {
    s.cleanup();
  }
});
