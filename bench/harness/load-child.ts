// The child process of the load benchmark (./load.ts), so that each measurement has a process of
// its own and `maxRSS` is that of one job:
//
//   node --import tsx load-child.ts write DIR SHARD_MB   a ~110 M-parameter BERT-base-like checkpoint
//                                                       with random weights: config.json + sharded
//                                                       model.safetensors
//   node --import tsx load-child.ts load DIR BACKEND     loadBackbone(DIR) on BACKEND; load time and memory
//
// Each prints one JSON line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/engine/backend/index.js';
import { buildBackbone, loadBackbone } from '../../src/engine/backbones/index.js';
import { writeShardedSafetensors } from '../../src/engine/io/safetensors-index.js';
import type { NamedTensor } from '../../src/engine/io/safetensors.js';
import { LOAD_CONFIG, type LoadChildReport, type WriteReport } from './load.js';
import { peakRss } from './rss.js';

/** Random values in ±0.03 (xorshift32: fast, and the values do not matter). */
function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed | 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s / 2147483648) * 0.03;
  }
  return out;
}

function writeCheckpoint(dir: string, shardMb: number): WriteReport {
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(LOAD_CONFIG, null, 2));
  // names and shapes of a pretrained BertModel checkpoint: everything but the task head
  const { model } = buildBackbone(dir, { task: 'seq-cls', numLabels: 2 });
  const tensors: NamedTensor[] = model.root.namedParams()
    .filter(([name]) => !model.headPrefixes.some((h) => name.startsWith(h + '.')))
    .map(([name, p], i) => ({ name, shape: [...p.shape], data: randomArray(p.size, i + 1) }));
  const files = writeShardedSafetensors(dir, tensors, { maxShardBytes: shardMb * 2 ** 20 });
  const params = tensors.reduce((n, t) => n + t.data.length, 0);
  return { params, tensors: tensors.length, weightBytes: params * 4, files, writeS: (performance.now() - t0) / 1000 };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function loadCheckpoint(dir: string, backend: string): Promise<LoadChildReport> {
  tf.env().set('PROD', true);
  const info = await initBackend(backend);
  gc();
  const baseline = peakRss();
  const t0 = performance.now();
  const { model } = loadBackbone(dir, { task: 'seq-cls', numLabels: 2 });
  const loadS = (performance.now() - t0) / 1000;
  const peak = peakRss();
  const resourceMaxRss = process.resourceUsage().maxRSS * 1024;
  gc();
  const params = model.root.namedParams().reduce((n, [, p]) => n + p.size, 0);
  return {
    backend: info.name, loadS, params, baselineMaxRss: baseline.bytes, maxRss: peak.bytes, peakSource: peak.source,
    resourceMaxRss, rssAfter: process.memoryUsage().rss, tfBytes: tf.memory().numBytes,
  };
}

const [command, dir, arg] = process.argv.slice(2);
if (command === 'write' && dir) {
  console.log(JSON.stringify(writeCheckpoint(dir, Number(arg ?? 100))));
} else if (command === 'load' && dir) {
  console.log(JSON.stringify(await loadCheckpoint(dir, arg ?? 'auto')));
} else {
  console.error('usage: load-child.js write DIR SHARD_MB | load DIR BACKEND');
  process.exit(2);
}
