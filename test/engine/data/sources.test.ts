// Every reader on the real datasets in ../shared/data (counts and label counts from each
// dataset's PROVENANCE.md), and Parquet on a file written by the test's own writer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSource, ExampleReader, type SourceItem } from '../../../src/engine/data/index.js';
import { needsShared, SHARED_DATA, scratch } from './helpers/paths.js';
import { writeParquet } from './helpers/parquet-writer.js';

async function collect(it: AsyncIterable<SourceItem>): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function countBy<T>(xs: Iterable<T>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[String(x)] = (out[String(x)] ?? 0) + 1;
  return out;
}

const GLUE: [string, string, number, Record<string, number>][] = [
  ['sst2', 'train.jsonl', 67349, { 0: 29780, 1: 37569 }],
  ['sst2', 'dev.jsonl', 698, { 0: 337, 1: 361 }],
  ['rte', 'train.jsonl', 2490, { 0: 1249, 1: 1241 }],
  ['rte', 'dev.jsonl', 222, { 0: 116, 1: 106 }],
  ['mrpc', 'train.jsonl', 3668, { 0: 1194, 1: 2474 }],
  ['mrpc', 'dev.jsonl', 408, { 0: 129, 1: 279 }],
  ['cola', 'train.jsonl', 8551, { 0: 2528, 1: 6023 }],
  ['cola', 'dev.jsonl', 834, { 0: 258, 1: 576 }],
];

for (const [name, file, rows, labels] of GLUE) {
  test(`jsonl: ${name}/${file} has ${rows} rows with the published label counts`, { skip: needsShared() }, async () => {
    const items = await collect(openSource({ path: join(SHARED_DATA, name, file), format: 'jsonl' }));
    assert.equal(items.length, rows);
    assert.ok(items.every((x) => x.problem === undefined));
    assert.deepEqual(countBy(items.map((x) => x.row?.label)), labels);
    assert.match(items[0]?.where ?? '', new RegExp(`${name}/${file.replace('.', '\\.')}:1$`));
    assert.equal(items[rows - 1]?.index, rows - 1);
  });
}

test('jsonl → examples: RTE pairs map text_a/text_b and label names', { skip: needsShared() }, async () => {
  const reader = new ExampleReader(
    { path: join(SHARED_DATA, 'rte', 'dev.jsonl'), format: 'jsonl', limit: 3, split: null },
    { task: { type: 'seq-cls', labels: ['entailment', 'not_entailment'], numLabels: 2 } },
  );
  const ex = [];
  for await (const e of reader) ex.push(e);
  assert.equal(ex.length, 3);
  for (const e of ex) {
    assert.equal(typeof e.text, 'string');
    assert.equal(typeof e.textPair, 'string');
    assert.ok(e.label === 0 || e.label === 1);
  }
  assert.equal(reader.mapper.columnOf('text'), 'text_a');
  assert.equal(reader.mapper.columnOf('text_pair'), 'text_b');
});

test('csv: UCI optdigits.tra (no header) → 64 features + label, published class counts', { skip: needsShared() }, async () => {
  const path = join(SHARED_DATA, 'optdigits', 'optdigits.tra');
  const reader = new ExampleReader({ path, format: 'csv', limit: null, split: null }, { task: { type: 'image-cls', labels: null, numLabels: 10 }, columns: { image: '0..63', label: '64' } });
  const labels: number[] = [];
  let first: Float32Array | undefined;
  for await (const e of reader) {
    assert.equal(e.image?.length, 64);
    assert.deepEqual(e.shape, [64]);
    first ??= e.image;
    labels.push(e.label as number);
  }
  assert.equal(labels.length, 3823);
  // optdigits/PROVENANCE.md: {'0': 376, '1': 389, '2': 380, '3': 389, '4': 387, '5': 376, '6': 377, '7': 387, '8': 380, '9': 382}
  assert.deepEqual(countBy(labels), { 0: 376, 1: 389, 2: 380, 3: 389, 4: 387, 5: 376, 6: 377, 7: 387, 8: 380, 9: 382 });
  const line1 = readFileSync(path, 'utf8').split('\n')[0]?.split(',').map(Number) ?? [];
  assert.deepEqual([...(first ?? [])], line1.slice(0, 64));
});

test('idx: MNIST t10k (gzipped IDX) → 8000 images 28×28 in [0, 1] with labels', { skip: needsShared() }, async () => {
  const dir = join(SHARED_DATA, 'mnist_t10k');
  const labels: number[] = [];
  let min = Infinity;
  let max = -Infinity;
  let where = '';
  for await (const item of openSource({ path: join(dir, 'images-idx3-ubyte.gz'), format: 'idx' })) {
    const row = item.row as { image: Float32Array; shape: number[]; label: number };
    assert.deepEqual(row.shape, [28, 28]);
    assert.equal(row.image.length, 784);
    if (item.index === 0) where = item.where;
    for (const v of row.image) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    labels.push(row.label);
  }
  assert.equal(labels.length, 8000);
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.match(where, /images-idx3-ubyte\.gz:row 0$/);
  // mnist_t10k/PROVENANCE.md, shared part of t10k
  assert.deepEqual(countBy(labels), { 0: 778, 1: 903, 2: 822, 3: 816, 4: 813, 5: 707, 6: 773, 7: 813, 8: 772, 9: 803 });
  // The folder itself is accepted too (its one *images-idx3* file).
  let n = 0;
  for await (const _ of openSource({ path: dir, format: 'idx' })) n++;
  assert.equal(n, 8000);
});

test('text: tinyshakespeare as one document reassembles the file; lines and paragraphs', { skip: needsShared() }, async () => {
  const path = join(SHARED_DATA, 'tinyshakespeare', 'train.txt');
  const content = readFileSync(path, 'utf8');
  const doc = await collect(openSource({ path, format: 'text' }, { chunkChars: 100_000 }));
  assert.ok(doc.length > 5);
  assert.equal(doc.map((x) => x.row?.text).join(''), content);
  assert.equal(content.length, 948084); // tinyshakespeare/PROVENANCE.md
  assert.match(doc[1]?.where ?? '', /train\.txt:\d+$/);
  const whole = await collect(openSource({ path, format: 'text' }));
  assert.equal(whole.length, 1);
  const lines = await collect(openSource({ path, format: 'text' }, { textUnit: 'line' }));
  assert.equal(lines.length, content.split('\n').filter((l) => l.trim() !== '').length);
  assert.equal(lines[0]?.row?.text, 'First Citizen:');
  assert.match(lines[1]?.where ?? '', /:2$/);
  const paras = await collect(openSource({ path, format: 'text' }, { textUnit: 'paragraph' }));
  assert.equal(paras.length, content.split(/\n\s*\n/).filter((p) => p.trim() !== '').length);
  assert.equal(paras[0]?.row?.text, 'First Citizen:\nBefore we proceed any further, hear me speak.');
});

test('parquet: rows of every row group, in order, with path:row N', async () => {
  const s = scratch();
  try {
    const rows = Array.from({ length: 23 }, (_, i) => ({ sentence: `sentence ${i} – ünïcode`, label: i % 3, idx: i }));
    const path = s.file(
      'train.parquet',
      writeParquet([{ name: 'sentence', type: 'string' }, { name: 'label', type: 'int32' }, { name: 'idx', type: 'int64' }], rows, 10),
    );
    const items = await collect(openSource({ path, format: 'parquet' }));
    assert.equal(items.length, 23);
    assert.deepEqual(items.map((x) => x.row), rows);
    assert.match(items[17]?.where ?? '', /train\.parquet:row 17$/);
    const reader = new ExampleReader({ path, format: 'parquet', limit: null, split: null }, { task: { type: 'seq-cls', labels: ['a', 'b', 'c'], numLabels: 3 }, columns: { text: 'sentence' } });
    const labels: number[] = [];
    for await (const e of reader) labels.push(e.label as number);
    assert.deepEqual(labels, rows.map((r) => r.label));
  } finally {
    s.cleanup();
  }
});

test('stopping early closes the file (no descriptor leak over many partial reads)', { skip: needsShared() }, async () => {
  const path = join(SHARED_DATA, 'sst2', 'train.jsonl');
  for (let i = 0; i < 300; i++) {
    for await (const item of openSource({ path, format: 'jsonl' })) {
      assert.equal(item.index, 0);
      break;
    }
  }
  const { existsSync, readdirSync } = await import('node:fs');
  if (!existsSync('/proc/self/fd')) return; // descriptors are countable on Linux only
  const open = readdirSync('/proc/self/fd').length;
  assert.ok(open < 100, `${open} descriptors open`);
});
