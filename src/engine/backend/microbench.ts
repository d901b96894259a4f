// Matmul microbenchmark on each backend that loads: the 2048×256×1024 product of a linear
// layer of the bench workload forward (X·W), and its two backward-shaped products with
// transpose flags (dY·Wᵀ, Xᵀ·dY), as tf.matMul's gradient issues them.
//
//   node dist/engine/backend/microbench.js [backend ...] [--seconds S]
//
// Prints GFLOP/s per product and the backend's thread count; `runMicrobench` returns them.
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, listBackends } from './index.js';

export interface MicrobenchRow {
  backend: string;
  threads: number;
  /** GFLOP/s of X·W, dY·Wᵀ, Xᵀ·dY, and of the three together. */
  forward: number;
  backwardInput: number;
  backwardWeight: number;
  combined: number;
}

export interface MicrobenchOptions {
  /** Backends to time (default: every one that loads). */
  backends?: string[];
  /** Time spent per product, at least one run (default 1 s; pure-JS cpu gets one run). The
   * fastest run counts. */
  seconds?: number;
  log?: (line: string) => void;
}

const M = 2048;
const K = 256;
const N = 1024;
const FLOP = 2 * M * K * N;

/** Runs `f`, waits for its result, frees it. (Returning the data from tf.tidy would make
 * tidy walk every element looking for tensors.) */
function once(f: () => tf.Tensor): void {
  const y = f();
  y.dataSync();
  y.dispose();
}

/** Seconds of the fastest run of `f` (after one warm-up run; runs for about `seconds`).
 * The fastest, not the mean: other processes on the machine only ever slow a run down. */
function time(f: () => tf.Tensor, seconds: number): number {
  once(f);
  let best = Infinity;
  const start = performance.now();
  do {
    const t0 = performance.now();
    once(f);
    best = Math.min(best, (performance.now() - t0) / 1000);
  } while ((performance.now() - start) / 1000 < seconds);
  return best;
}

export async function runMicrobench(options: MicrobenchOptions = {}): Promise<MicrobenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const names = options.backends ?? (await listBackends()).filter((s) => s.available).map((s) => s.name);
  const rows: MicrobenchRow[] = [];
  log(`matmul ${M}×${K}×${N} (${(FLOP / 1e9).toFixed(2)} GFLOP per product), GFLOP/s:`);
  log('backend          threads   X·W   dY·Wᵀ   Xᵀ·dY   all three');
  for (const name of names) {
    const info = await initBackend(name);
    const seconds = name === 'cpu' ? 0 : options.seconds ?? 1;
    const x = tf.randomNormal([M, K]);
    const w = tf.randomNormal([K, N]);
    const dy = tf.randomNormal([M, N]);
    const fwd = time(() => tf.matMul(x, w), seconds);
    const bwdX = time(() => tf.matMul(dy, w, false, true), seconds);
    const bwdW = time(() => tf.matMul(x, dy, true, false), seconds);
    tf.dispose([x, w, dy]);
    const g = (s: number) => FLOP / s / 1e9;
    const row: MicrobenchRow = {
      backend: info.name,
      threads: info.threads,
      forward: g(fwd),
      backwardInput: g(bwdX),
      backwardWeight: g(bwdW),
      combined: (3 * FLOP) / (fwd + bwdX + bwdW) / 1e9,
    };
    rows.push(row);
    const f = (v: number) => v.toFixed(1).padStart(7);
    log(`${row.backend.padEnd(16)} ${String(row.threads).padStart(7)} ${f(row.forward)} ${f(row.backwardInput)} ${f(row.backwardWeight)} ${f(row.combined)}`);
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--seconds');
  const seconds = at >= 0 ? Number(args[at + 1]) : undefined;
  const backends = args.filter((a, i) => !a.startsWith('--') && !(at >= 0 && i === at + 1));
  await runMicrobench({ backends: backends.length ? backends : undefined, seconds });
}
