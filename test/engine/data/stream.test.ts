// Streaming with bounded memory: a generated 200 MB JSONL file is read row by row (and batch by
// batch) while the resident set size is sampled; its growth must stay far below the file's size
// (reading the file whole would take more than its size in memory, and ~3× as JS objects).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { ExampleReader } from '../../../src/engine/data/index.js';
import { scratch } from './helpers/paths.js';

const TARGET_BYTES = 200 * 1024 * 1024;
const mb = (x: number) => `${(x / 1024 / 1024).toFixed(0)} MB`;

test('a 200 MB JSONL file streams with bounded memory', { timeout: 300_000 }, async (t) => {
  const s = scratch('peft-stream-');
  try {
    const path = `${s.dir}/big.jsonl`;
    const fd = openSync(path, 'w');
    const words = 'the quick brown fox jumps over the lazy dog while the frozen backbone keeps its weights'.split(' ');
    let written = 0;
    let rows = 0;
    while (written < TARGET_BYTES) {
      let block = '';
      for (let i = 0; i < 2000; i++, rows++) {
        const text = Array.from({ length: 12 + (rows % 17) }, (_, k) => words[(rows + k * 7) % words.length]).join(' ');
        block += `${JSON.stringify({ text, label: rows % 2, idx: rows })}\n`;
      }
      written += writeSync(fd, block);
    }
    closeSync(fd);
    const size = statSync(path).size;
    assert.ok(size >= TARGET_BYTES);
    const plan = { path, format: 'jsonl' as const, limit: null, split: null };
    const task = { type: 'seq-cls', labels: null, numLabels: 2 } as const;

    // One example at a time.
    let baseline = process.memoryUsage().rss;
    let peak = baseline;
    let n = 0;
    let labelSum = 0;
    for await (const ex of new ExampleReader(plan, { task })) {
      n++;
      labelSum += ex.label as number;
      if (n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.equal(n, rows);
    assert.equal(labelSum, Math.floor(rows / 2));
    t.diagnostic(`per example: RSS +${mb(peak - baseline)} for a ${mb(size)} file of ${rows} rows`);
    assert.ok(peak - baseline < size / 2, `RSS grew by ${mb(peak - baseline)} while streaming a ${mb(size)} file`);

    // A batch at a time.
    baseline = process.memoryUsage().rss;
    peak = baseline;
    n = 0;
    for await (const batch of new ExampleReader(plan, { task }).batches()) {
      n += batch.length;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.equal(n, rows);
    t.diagnostic(`per batch: RSS +${mb(peak - baseline)}`);
    assert.ok(peak - baseline < size / 4, `RSS grew by ${mb(peak - baseline)} while streaming a ${mb(size)} file in batches`);
  } finally {
    s.cleanup();
  }
});
