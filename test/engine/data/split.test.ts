// Seeded splits of one file: exact sizes, determinism, head/tail partition, resolveSplits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExampleReader, resolveSplits, splitCount, SplitSelector } from '../../../src/engine/data/index.js';
import type { DataSplitPlan } from '../../../src/plan/index.js';
import { scratch } from './helpers/paths.js';

function members(spec: NonNullable<DataSplitPlan['split']>, total: number, seed: number): number[] {
  const sel = new SplitSelector(spec, total, seed);
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (sel.accept()) out.push(i);
  return out;
}

test('a split takes exactly round(fraction × N) rows, the same ones for the same seed', () => {
  const tail = members({ of: 'train', fraction: 0.1, part: 'tail' }, 1003, 0);
  assert.equal(tail.length, 100);
  assert.deepEqual(members({ of: 'train', fraction: 0.1, part: 'tail' }, 1003, 0), tail);
  assert.notDeepEqual(members({ of: 'train', fraction: 0.1, part: 'tail' }, 1003, 1), tail);
  // Spread over the file, not a block at its end.
  assert.ok((tail[0] as number) < 200 && (tail[tail.length - 1] as number) > 800);
});

test('head(1 − f) and tail(f) partition the file, also at rounding ties', () => {
  for (const [total, f] of [[1003, 0.1], [5, 0.1], [10, 0.25], [7, 0.5], [1, 0.5], [0, 0.2]] as const) {
    const tail = members({ of: 'train', fraction: f, part: 'tail' }, total, 5);
    const head = members({ of: 'train', fraction: 1 - f, part: 'head' }, total, 5);
    assert.equal(tail.length + head.length, total, `N=${total} f=${f}`);
    assert.deepEqual([...tail, ...head].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i));
    assert.equal(splitCount({ of: 'train', fraction: f, part: 'tail' }, total), tail.length);
  }
});

test('resolveSplits gives train the complement of a split taken from it', () => {
  const train: DataSplitPlan = { path: '/d/train.jsonl', format: 'jsonl', limit: null, split: null };
  const validation: DataSplitPlan = { path: '/d/train.jsonl', format: 'jsonl', limit: 64, split: { of: 'train', fraction: 0.1, part: 'tail' } };
  const r = resolveSplits({ train, validation, test: null });
  assert.deepEqual(r.train?.split, { of: 'train', fraction: 0.9, part: 'head' });
  assert.equal(r.validation, validation);
  const explicit = { ...train, split: { of: 'train', fraction: 0.8, part: 'head' as const } };
  assert.equal(resolveSplits({ train: explicit, validation, test: null }).train, explicit);
  assert.throws(() => resolveSplits({ train, validation, test: validation }), (e: Error & { code?: string }) => e.code === 'RECIPE');
  // Without a path of its own, the split reads the file of the split it takes part of.
  const noPath = resolveSplits({ train, validation: { ...validation, path: '', format: 'text' }, test: null });
  assert.equal(noPath.validation?.path, '/d/train.jsonl');
  assert.equal(noPath.validation?.format, 'jsonl');
  assert.deepEqual(noPath.train?.split, { of: 'train', fraction: 0.9, part: 'head' });
  assert.throws(() => resolveSplits({ train, validation: null, test: { ...validation, split: { of: 'validation', fraction: 0.5, part: 'tail' } } }), /no data\.validation/);
  assert.throws(() => resolveSplits({ train, validation: { ...validation, split: { of: 'dev', fraction: 0.1, part: 'tail' } }, test: null }), /not a split/);
});

test('reading: train and validation from one file share no row and cover it', async () => {
  const s = scratch();
  try {
    const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ text: `t${i}`, label: i % 2 }));
    lines.splice(40, 0, '{"broken'); // a bad row keeps its place in the selection under skip
    const path = s.file('all.jsonl', `${lines.join('\n')}\n`);
    const base: DataSplitPlan = { path, format: 'jsonl', limit: null, split: null };
    const splits = resolveSplits({ train: base, validation: { ...base, split: { of: 'train', fraction: 0.2, part: 'tail' } }, test: null });
    const read = async (p: DataSplitPlan) => {
      const r = new ExampleReader(p, { task: { type: 'seq-cls', labels: null, numLabels: 2 }, seed: 1234, onError: 'skip' });
      const texts: string[] = [];
      for await (const e of r) texts.push(e.text as string);
      return { texts, bad: r.bad.total, rows: await r.rows() };
    };
    const tr = await read(splits.train as DataSplitPlan);
    const va = await read(splits.validation as DataSplitPlan);
    assert.equal(tr.rows + va.rows, 251);
    assert.equal(va.rows, Math.round(0.2 * 251));
    assert.equal(tr.bad + va.bad, 1);
    assert.equal(tr.texts.length + va.texts.length, 250);
    assert.equal(new Set([...tr.texts, ...va.texts]).size, 250);
    const again = await read(splits.validation as DataSplitPlan);
    assert.deepEqual(again.texts, va.texts);
    // limit: the first N examples of the split, in file order.
    const limited = new ExampleReader({ ...(splits.validation as DataSplitPlan), limit: 5 }, { task: { type: 'seq-cls', labels: null, numLabels: 2 }, seed: 1234, onError: 'skip' });
    const first: string[] = [];
    for await (const e of limited) first.push(e.text as string);
    assert.deepEqual(first, va.texts.slice(0, 5));
  } finally {
    s.cleanup();
  }
});
