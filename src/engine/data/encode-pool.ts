// Tokenisation and encoding on every core: worker threads (encode-worker.ts), each with its own
// copy of the model directory's tokenizer, encode groups of examples while the main thread keeps
// reading and parsing the file. Groups go out round-robin and their results come back in the order
// they were sent, so the pre-tokenised copy (and everything seeded after it) is exactly what one
// thread would have made. Worth it for large splits only (a worker takes a moment to start).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { TokenExample } from './batches.js';
import type { EncodeSpec } from './encode.js';
import type { Example, RowProblem } from './types.js';
import type { WorkerInit, WorkerJob, WorkerResult } from './encode-worker.js';

/** Splits with at least this many rows are encoded by workers (below, one thread is quicker). */
export const POOL_MIN_ROWS = 50_000;

/** Workers to start: one per core (PEFT_DATA_WORKERS overrides; 0 disables the pool). */
export function workerCount(): number {
  const env = process.env.PEFT_DATA_WORKERS;
  if (env !== undefined && env !== '' && Number.isInteger(Number(env)) && Number(env) >= 0) return Number(env);
  return Math.max(1, availableParallelism());
}

/**
 * A worker running encode-worker beside this module: the .js file in dist; under tsx (the tests and
 * the bench run the TypeScript sources) the .ts file, loaded through tsx's API (a worker does not
 * inherit the parent's module hooks).
 */
function startWorker(init: WorkerInit): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const file = JSON.stringify(new URL('./encode-worker.ts', import.meta.url).href);
    const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    return new Worker(`import(${api}).then((m) => m.tsImport(${file}, ${file}))`, { eval: true, workerData: init });
  }
  return new Worker(new URL('./encode-worker.js', import.meta.url), { workerData: init });
}

interface Pending {
  resolve: (r: WorkerResult) => void;
  reject: (e: Error) => void;
}

class EncodeWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;
  private failure: Error | null = null;

  constructor(init: WorkerInit) {
    this.worker = startWorker(init);
    let started: () => void;
    let failed: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      started = res;
      failed = rej;
    });
    this.worker.on('message', (r: WorkerResult) => {
      if (r.id === -1) return started();
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (!p) return;
      if (r.error !== undefined) p.reject(new Error(`encoding worker: ${r.error}`));
      else p.resolve(r);
    });
    const fail = (e: Error) => {
      this.failure = e;
      failed(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0 || this.pending.size > 0) fail(new Error(`encoding worker exited (code ${code})`));
    });
  }

  run(job: WorkerJob): Promise<WorkerResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

export class EncodePool {
  private next = 0;

  private constructor(private readonly workers: EncodeWorker[]) {}

  /** A started pool of `count` workers, or null when none could start (the caller encodes itself). */
  static async start(init: WorkerInit, count: number): Promise<EncodePool | null> {
    if (count < 1) return null;
    const workers = Array.from({ length: count }, () => new EncodeWorker(init));
    try {
      await Promise.all(workers.map((w) => w.ready));
      return new EncodePool(workers);
    } catch {
      await Promise.all(workers.map((w) => w.close()));
      return null;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs a job on the next worker (round-robin). */
  private run(job: (id: number) => WorkerJob): Promise<WorkerResult> {
    const id = this.next++;
    return this.workers[id % this.workers.length]!.run(job(id));
  }

  /** Encodes a group of examples on the next worker. */
  async encode(examples: Example[]): Promise<(TokenExample | RowProblem)[]> {
    return (await this.run((id) => ({ id, examples }))).encoded!;
  }

  /** Token ids of texts (special tokens added, not truncated) on the next worker. */
  async texts(texts: string[]): Promise<Int32Array[]> {
    return (await this.run((id) => ({ id, texts }))).ids!;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/**
 * Runs `work` on the items of `source` with at most `window` in flight and hands the results to
 * `sink` in the source's order (the sink may stop the stream by returning false).
 */
export async function inOrder<T, R>(
  source: AsyncIterable<T>, window: number, work: (item: T) => Promise<R>, sink: (result: R, item: T) => boolean | void,
): Promise<void> {
  const queue: { item: T; result: Promise<R> }[] = [];
  let stopped = false;
  const drainOne = async () => {
    const head = queue.shift()!;
    if (sink(await head.result, head.item) === false) stopped = true;
  };
  try {
    for await (const item of source) {
      const result = work(item);
      result.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      queue.push({ item, result });
      while (queue.length >= window && !stopped) await drainOne();
      if (stopped) break;
    }
    while (queue.length > 0 && !stopped) await drainOne();
  } finally {
    queue.length = 0;
  }
}
