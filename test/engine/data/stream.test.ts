// Streaming with bounded memory: a generated 200 MB JSONL file is read row by row while the
// resident set size is sampled; its growth must stay far below the file's size.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { ExampleReader } from '../../../src/engine/data/index.js';
import { scratch } from './helpers/paths.js';

const TARGET_BYTES = 200 * 1024 * 1024;

test('a 200 MB JSONL file streams with bounded memory', { timeout: 180_000 }, async () => {
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

    console.log("gen done", process.uptime());
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let n = 0;
    let labelSum = 0;
    const reader = new ExampleReader({ path, format: 'jsonl', limit: null, split: null }, { task: { type: 'seq-cls', labels: null, numLabels: 2 } });
    for await (const ex of reader) {
      n++;
      labelSum += ex.label as number;
      if (n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.equal(n, rows);
    assert.equal(labelSum, Math.floor(rows / 2));
    const growth = peak - baseline;
    console.log("read done", process.uptime(), growth / 1048576, baseline / 1048576);
    const mb = (x: number) => `${(x / 1024 / 1024).toFixed(0)} MB`;
    // Loading the file whole would cost more than its size (and ~3× as JS strings and objects).
    assert.ok(growth < size / 4, `RSS grew by ${mb(growth)} while streaming a ${mb(size)} file`);
  } finally {
    s.cleanup();
  }
});
