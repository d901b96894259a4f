// Crafted bad files: every failure is a one-line PeftError with its place and a hint.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PeftError } from '../../../src/errors.js';
import { ExampleReader, openSource, type ReadOptions } from '../../../src/engine/data/index.js';
import type { DataSplitPlan } from '../../../src/plan/index.js';
import { firstInvalidUtf8 } from '../../../src/engine/data/sources/lines.js';
import { scratch } from './helpers/paths.js';

const SST2 = { type: 'seq-cls', labels: null, numLabels: 2 } as const;

function plan(path: string, format: DataSplitPlan['format'] = 'jsonl', limit: number | null = null): DataSplitPlan {
  return { path, format, limit, split: null };
}

async function drain(reader: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of reader) n++;
  return n;
}

function isPeft(code: string, where: RegExp, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof PeftError, `expected a PeftError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.where ?? '', where);
    assert.match(e.message, message);
    assert.ok(e.hint, 'has a hint');
    assert.ok(!e.toLine().includes('\n'), 'one line');
    return true;
  };
}

const GOOD = '{"text": "a", "label": 0}\n{"text": "b", "label": 1}\n';

test('bad JSON on line 3: fail stops there; skip counts it and goes on', async () => {
  const s = scratch();
  try {
    const path = s.file('train.jsonl', `${GOOD}{"text": "c", "label": \n{"text": "d", "label": 1}\n`);
    const opts: ReadOptions = { task: SST2 };
    await assert.rejects(drain(new ExampleReader(plan(path), opts)), isPeft('DATA', /train\.jsonl:3$/, /invalid JSON/));
    const reader = new ExampleReader(plan(path), { ...opts, onError: 'skip' });
    assert.equal(await drain(reader), 3);
    assert.equal(reader.bad.total, 1);
    assert.equal(reader.bad.report().json?.count, 1);
    assert.match(reader.bad.report().json?.first ?? '', /train\.jsonl:3$/);
    assert.match(reader.bad.summary(), /^skipped 1 bad row: 1 json \(first at .*train\.jsonl:3/);
    const lines = s.file('array.jsonl', `${GOOD}[1, 2]\n`);
    await assert.rejects(drain(new ExampleReader(plan(lines), opts)), isPeft('DATA', /array\.jsonl:3$/, /an array, not a JSON object/));
  } finally {
    s.cleanup();
  }
});

test('missing field and unknown label name the file:line, the value and the allowed set', async () => {
  const s = scratch();
  try {
    const missing = s.file('train.jsonl', `${GOOD}{"text": "c"}\n`);
    await assert.rejects(drain(new ExampleReader(plan(missing), { task: SST2 })), (e: unknown) => {
      assert.ok(e instanceof PeftError);
      assert.equal(e.code, 'DATA');
      assert.equal(e.exitCode, 2);
      assert.match(e.where ?? '', /train\.jsonl:3$/);
      assert.equal(e.message, 'field "label" missing (expected one of 0, 1)');
      return true;
    });
    const unknown = s.file('named.jsonl', '{"text": "a", "label": "positive"}\n{"text": "b", "label": "neutral"}\n');
    const task = { type: 'seq-cls', labels: ['negative', 'positive'], numLabels: 2 } as const;
    await assert.rejects(
      drain(new ExampleReader(plan(unknown), { task })),
      isPeft('DATA', /named\.jsonl:2$/, /^label "neutral" in field "label" is not one of negative, positive \(or ids 0, 1\)$/),
    );
    const outOfRange = s.file('ids.jsonl', '{"text": "a", "label": 2}\n');
    await assert.rejects(drain(new ExampleReader(plan(outOfRange), { task: SST2 })), isPeft('DATA', /ids\.jsonl:1$/, /label 2 .* not one of 0, 1/));
    const skip = new ExampleReader(plan(unknown), { task, onError: 'skip' });
    assert.equal(await drain(skip), 1);
    assert.deepEqual(Object.keys(skip.bad.report()), ['label']);
  } finally {
    s.cleanup();
  }
});

test('invalid UTF-8 is a bad row at its line: a DATA error under fail, skipped under skip', async () => {
  const s = scratch();
  try {
    const bytes = Buffer.concat([Buffer.from(GOOD), Buffer.from('{"text": "caf'), Buffer.from([0xe9]), Buffer.from('", "label": 0}\n'), Buffer.from(GOOD)]);
    const path = s.file('latin1.jsonl', bytes);
    const rows = [];
    for await (const x of openSource(plan(path))) rows.push(x);
    assert.equal(rows.length, 5, 'its neighbours are read');
    assert.equal(rows[2]?.where, `${path}:3`.replace(process.cwd() + '/', ''));
    assert.deepEqual(rows[2]?.problem?.reason, 'encoding');
    assert.match(rows[2]?.problem?.message ?? '', /not valid UTF-8 \(byte 0xe9 at byte 14 of the line\)/);
    await assert.rejects(drain(new ExampleReader(plan(path), { task: SST2 })), isPeft('DATA', /latin1\.jsonl:3$/, /not valid UTF-8 \(byte 0xe9 at byte 14 of the line\)/));
    const skip = new ExampleReader(plan(path), { task: SST2, onError: 'skip' });
    assert.equal(await drain(skip), 4);
    assert.deepEqual(Object.keys(skip.bad.report()), ['encoding']);
    // A multi-byte character split across read chunks is still valid.
    const ok = s.file('ok.jsonl', '{"text": "naïve café ☕ 𝄞", "label": 1}\n');
    const items = [];
    for await (const x of openSource(plan(ok), { chunkBytes: 3 })) items.push(x);
    assert.equal(items[0]?.row?.text, 'naïve café ☕ 𝄞');
  } finally {
    s.cleanup();
  }
});

test('the position finder for bad UTF-8 agrees with the fatal TextDecoder', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let t = 0; t < 20000; t++) {
    const b = Uint8Array.from({ length: 1 + Math.floor(next() * 6) }, () => (next() < 0.5 ? 0x80 + Math.floor(next() * 0x80) : Math.floor(next() * 256)));
    let valid = true;
    try {
      fatal.decode(b);
    } catch {
      valid = false;
    }
    assert.equal(firstInvalidUtf8(b) === -1, valid, `bytes ${[...b].map((x) => x.toString(16)).join(' ')}`);
  }
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80])), 1); // a UTF-16 surrogate
  assert.equal(firstInvalidUtf8(Buffer.from([0xc0, 0xaf])), 0); // an overlong '/'
});

test('empty split: an empty file, all rows skipped, a limit of 0', async () => {
  const s = scratch();
  try {
    const empty = s.file('empty.jsonl', '\n\n');
    await assert.rejects(drain(new ExampleReader(plan(empty), { task: SST2, name: 'validation' })), isPeft('DATA', /empty\.jsonl$/, /split validation has no examples/));
    const bad = s.file('bad.jsonl', '{"text": 1, "label": 0}\n');
    await assert.rejects(drain(new ExampleReader(plan(bad), { task: SST2, onError: 'skip' })), (e: unknown) => e instanceof PeftError && /all 1 of its rows were bad/.test(e.hint ?? ''));
    const good = s.file('good.jsonl', GOOD);
    await assert.rejects(drain(new ExampleReader(plan(good, 'jsonl', 0), { task: SST2 })), (e: unknown) => e instanceof PeftError && e.hint === 'limit is 0');
  } finally {
    s.cleanup();
  }
});

test('a missing file or a directory is a FILE error for every format', async () => {
  const s = scratch();
  try {
    for (const format of ['jsonl', 'csv', 'tsv', 'text', 'parquet', 'idx'] as const) {
      await assert.rejects(drain(openSource(plan(join(s.dir, `nope.${format}`), format))), isPeft('FILE', /nope\./, /not found/));
    }
    await assert.rejects(drain(openSource(plan(s.dir, 'jsonl'))), isPeft('FILE', /peft-data-/, /is a directory/));
  } finally {
    s.cleanup();
  }
});

test('a non-Parquet file and a bad IDX magic are one-line FORMAT errors', async () => {
  const s = scratch();
  try {
    const notParquet = s.file('train.parquet', GOOD);
    await assert.rejects(drain(openSource(plan(notParquet, 'parquet'))), isPeft('FORMAT', /train\.parquet$/, /is not a Parquet file \(it does not start with PAR1\)/));
    const tiny = s.file('tiny.parquet', 'PAR1');
    await assert.rejects(drain(openSource(plan(tiny, 'parquet'))), isPeft('FORMAT', /tiny\.parquet$/, /only 4 bytes/));
    const badIdx = s.file('images-idx3-ubyte.gz', gzipSync(Buffer.from([0x12, 0x34, 0x08, 0x03, 0, 0, 0, 1])));
    await assert.rejects(drain(openSource(plan(badIdx, 'idx'))), isPeft('FORMAT', /images-idx3-ubyte\.gz$/, /is not an IDX file \(magic 0x12340803\)/));
    // Truncated images: header says 2 images of 2×2, data holds one: refused from the header, before any row.
    const trunc = s.file('t-images-idx3-ubyte', Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 128, 64]));
    const rows: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const x of openSource(plan(trunc, 'idx'))) rows.push(x);
      })(),
      isPeft('FORMAT', /t-images-idx3-ubyte$/, /IDX header declares 2 × 2 × 2 = 8 bytes of data; the file holds 4/),
    );
    assert.equal(rows.length, 0);
    // A gzip stream cut short: the images before the cut are read, then a FORMAT error.
    const cut = s.file('cut-images-idx3-ubyte.gz', gzipSync(Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 3, 0xe8, 0, 0, 0, 28, 0, 0, 0, 28]), Buffer.alloc(1000 * 784, 7)])).subarray(0, 400));
    let read = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of openSource(plan(cut, 'idx'))) read++;
      })(),
      isPeft('FORMAT', /cut-images-idx3-ubyte\.gz$/, /not a valid gzip file|ends after \d+ of 1000 images|cannot hold that many/),
    );
    assert.ok(read < 1000);
  } finally {
    s.cleanup();
  }
});
