// CSV (RFC 4180 quoting) and TSV (GLUE style, no quoting) on crafted files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExampleReader, openSource, type SourceItem } from '../../../src/engine/data/index.js';
import { scratch } from './helpers/paths.js';

async function collect(it: AsyncIterable<SourceItem>): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('csv: quoted commas, doubled quotes, newlines inside quotes, CRLF, blank lines', async () => {
  const s = scratch();
  try {
    const path = s.file(
      'train.csv',
      [
        'sentence,label',
        'plain text,0',
        '"with, a comma",1',
        '"she said ""hi""",0',
        '"two',
        'lines, and ""quotes""',
        '",1',
        '',
        'after blank,1\r',
        '"",0',
        'unquoted "inner" quotes,1',
      ].join('\n'),
    );
    const items = await collect(openSource({ path, format: 'csv' }));
    assert.deepEqual(
      items.map((x) => x.row),
      [
        { sentence: 'plain text', label: '0' },
        { sentence: 'with, a comma', label: '1' },
        { sentence: 'she said "hi"', label: '0' },
        { sentence: 'two\nlines, and "quotes"\n', label: '1' },
        { sentence: 'after blank', label: '1' },
        { sentence: '', label: '0' },
        { sentence: 'unquoted "inner" quotes', label: '1' },
      ],
    );
    // `where` is the line where the record starts (the multi-line record starts on line 5).
    assert.deepEqual(
      items.map((x) => Number(x.where.split(':').pop())),
      [2, 3, 4, 5, 9, 10, 11],
    );
    assert.deepEqual(items.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6]);
  } finally {
    s.cleanup();
  }
});

test('csv: a record with the wrong number of fields and an unterminated quote are bad rows', async () => {
  const s = scratch();
  try {
    const path = s.file('bad.csv', 'text,label\ngood,1\ntoo,many,fields\n"never closed,0\nmore\n');
    const items = await collect(openSource({ path, format: 'csv' }));
    assert.equal(items.length, 3);
    assert.deepEqual(items[0]?.row, { text: 'good', label: '1' });
    assert.equal(items[1]?.problem?.reason, 'fields');
    assert.match(items[1]?.problem?.message ?? '', /3 fields, the header has 2/);
    assert.match(items[1]?.where ?? '', /bad\.csv:3$/);
    assert.equal(items[2]?.problem?.reason, 'quote');
    assert.match(items[2]?.where ?? '', /bad\.csv:4$/);
  } finally {
    s.cleanup();
  }
});

test('csv: header detection (auto: an all-numeric first record is data), explicit header option', async () => {
  const s = scratch();
  try {
    const path = s.file('digits.csv', '0,1,2\n3,4,5\n');
    assert.deepEqual((await collect(openSource({ path, format: 'csv' }))).map((x) => x.row), [
      { 0: '0', 1: '1', 2: '2' },
      { 0: '3', 1: '4', 2: '5' },
    ]);
    assert.deepEqual((await collect(openSource({ path, format: 'csv' }, { header: true }))).map((x) => x.row), [{ 0: '3', 1: '4', 2: '5' }]);
    const named = s.file('named.csv', 'a,b\n1,2\n');
    assert.deepEqual((await collect(openSource({ path: named, format: 'csv' }, { header: false }))).map((x) => x.row), [
      { 0: 'a', 1: 'b' },
      { 0: '1', 1: '2' },
    ]);
    const dup = s.file('dup.csv', 'a,a\n1,2\n');
    await assert.rejects(collect(openSource({ path: dup, format: 'csv' })), (e: Error & { code?: string }) => e.code === 'FORMAT' && /twice/.test(e.message));
  } finally {
    s.cleanup();
  }
});

test('tsv: GLUE style, quotes are ordinary characters', async () => {
  const s = scratch();
  try {
    const path = s.file('dev.tsv', 'sentence\tlabel\nit \'s a "charming" , often affecting journey . \t1\n"unbalanced quote\t0\n');
    const items = await collect(openSource({ path, format: 'tsv' }));
    assert.deepEqual(items.map((x) => x.row), [
      { sentence: 'it \'s a "charming" , often affecting journey . ', label: '1' },
      { sentence: '"unbalanced quote', label: '0' },
    ]);
  } finally {
    s.cleanup();
  }
});

test('tsv without a header (GLUE CoLA raw): columns named by position imply no header', async () => {
  const s = scratch();
  try {
    const path = s.file('in_domain_train.tsv', "gj04\t1\t\tOur friends won't buy this analysis.\ngj04\t0\t*\tOne more pseudo generalization and I'm giving up.\n");
    const reader = new ExampleReader({ path, format: 'tsv', limit: null, split: null }, { task: { type: 'seq-cls', labels: null, numLabels: 2 }, columns: { text: '3', label: '1' } });
    const got: [string, number][] = [];
    for await (const e of reader) got.push([e.text as string, e.label as number]);
    assert.deepEqual(got, [
      ["Our friends won't buy this analysis.", 1],
      ["One more pseudo generalization and I'm giving up.", 0],
    ]);
  } finally {
    s.cleanup();
  }
});
