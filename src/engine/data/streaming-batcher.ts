// A training split too large to encode before step 1 is trained while it is still being read: the
// reader and the encoding workers fill the TokenStore in the background (build.ts) and training
// starts once a shuffle buffer of examples has arrived. The first epoch's order is drawn through
// that buffer (tf.data's and HF IterableDataset's shuffle: each arriving example takes the place of
// a uniformly chosen one, which is emitted), so it is a seeded function of the file alone — not of
// timing — and a resumed run redraws it exactly. Later epochs, read once the split is complete, use
// the same exact global shuffle as a Batcher. Evaluation-style readers (sequential) see only what
// has arrived.
import { Batcher, groupedByLength, MEGABATCH, type Batch, type CollateOptions, type DataCursor } from './batches.js';
import { Rng } from './rng.js';
import type { TokenStore } from './token-store.js';

/** Splits with at least this many examples are streamed (env PEFT_DATA_STREAM_MIN_EXAMPLES; 0 never streams). */
export const STREAM_MIN_EXAMPLES = 1_000_000;
/** Examples the first epoch's shuffle draws among (env PEFT_DATA_SHUFFLE_BUFFER). */
export const SHUFFLE_BUFFER = 1 << 18;

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

export function streamMinExamples(): number {
  return envInt('PEFT_DATA_STREAM_MIN_EXAMPLES', STREAM_MIN_EXAMPLES);
}

export function shuffleBufferSize(): number {
  return Math.max(1, envInt('PEFT_DATA_SHUFFLE_BUFFER', SHUFFLE_BUFFER));
}

interface Waiter {
  need: (b: StreamingBatcher) => boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class StreamingBatcher extends Batcher {
  private readonly rng: Rng;
  private readonly buffer: Uint32Array;
  private buffered = 0;
  /** Store indices taken in (arrived). */
  private arrived = 0;
  /** The first epoch's order as drawn so far (and, once grouped by length, its complete groups). */
  private drawn: Uint32Array;
  private drawnCount = 0;
  private grouped: Uint32Array | null;
  private groupedCount = 0;
  private finished = false;
  private failure: unknown = null;
  private waiters: Waiter[] = [];
  private cancelled = false;

  constructor(
    private readonly store: TokenStore,
    /** Examples the pre-flight scan counted: the epoch's size until the stream ends. */
    private readonly expected: number,
    batchSize: number,
    seed: number,
    collate: CollateOptions,
    groupByLength: boolean,
    bufferSize = shuffleBufferSize(),
  ) {
    super(store, batchSize, seed, collate, true, groupByLength, true);
    this.rng = Rng.fromSeed(seed, 0x57e4a);
    this.buffer = new Uint32Array(Math.max(1, bufferSize));
    this.drawn = new Uint32Array(Math.max(1, expected));
    this.grouped = groupByLength ? new Uint32Array(Math.max(1, expected)) : null;
  }

  get done(): boolean {
    return this.finished;
  }

  /** True once the background reader should stop (training ended before the split was read). */
  get stopRequested(): boolean {
    return this.cancelled;
  }

  override get size(): number {
    return this.finished ? this.store.size : this.expected;
  }

  override get batchesPerEpoch(): number {
    return Math.ceil(this.size / this.batchSize);
  }

  private emit(i: number): void {
    if (this.drawnCount === this.drawn.length) {
      const grown = new Uint32Array(Math.ceil(this.drawn.length * 1.25) + 1);
      grown.set(this.drawn);
      this.drawn = grown;
    }
    this.drawn[this.drawnCount++] = i;
  }

  /** Takes in the examples the store gained since the last call. */
  advance(): void {
    const k = this.buffer.length;
    for (; this.arrived < this.store.size; this.arrived++) {
      if (this.buffered < k) this.buffer[this.buffered++] = this.arrived;
      else {
        const j = this.rng.nextInt(k);
        this.emit(this.buffer[j]!);
        this.buffer[j] = this.arrived;
      }
    }
    this.regroup();
    this.wake();
  }

  /** The store is complete: the buffer's remainder is emitted in a seeded order. */
  finish(): void {
    this.advance();
    const rest = Array.from(this.buffer.subarray(0, this.buffered));
    this.rng.shuffle(rest);
    for (const i of rest) this.emit(i);
    this.buffered = 0;
    this.finished = true;
    this.regroup();
    this.wake();
  }

  fail(e: unknown): void {
    this.failure = e;
    this.wake();
  }

  /** Asks the background reader to stop; it does at its next group. */
  cancel(): void {
    this.cancelled = true;
  }

  /** Stops the reader (training is over) and waits until it has let go of the file and workers. */
  async stop(): Promise<void> {
    if (this.finished) return;
    this.cancel();
    await this.whenDone().catch(() => undefined);
  }

  /** Groups of MEGABATCH batches sorted by length, as each group of the drawn order completes. */
  private regroup(): void {
    if (!this.grouped) return;
    const size = this.batchSize * MEGABATCH;
    while (this.groupedCount < this.drawnCount) {
      const end = Math.min(this.groupedCount + size, this.drawnCount);
      if (end - this.groupedCount < size && !this.finished) break;
      let out: Uint32Array = this.grouped;
      if (out.length < end) {
        out = new Uint32Array(Math.max(end, Math.ceil(out.length * 1.25)));
        out.set(this.grouped.subarray(0, this.groupedCount));
        this.grouped = out;
      }
      out.set(groupedByLength(this.drawn.subarray(this.groupedCount, end), size, (i) => this.store.length(i)), this.groupedCount);
      this.groupedCount = end;
    }
  }

  /** Positions of the first epoch's order that are final. */
  private get available(): number {
    return this.grouped ? this.groupedCount : this.drawnCount;
  }

  private wake(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.failure !== null) w.reject(this.failure);
      else if (w.need(this)) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private until(need: (b: StreamingBatcher) => boolean): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (need(this)) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ need, resolve, reject }));
  }

  /** Resolves when the batch at the cursor can be drawn (null when it already can). */
  ready(cursor: DataCursor): Promise<void> | null {
    const need = (b: StreamingBatcher) => b.finished || (cursor.epoch === 0 && b.available >= cursor.index + b.batchSize);
    if (this.failure === null && need(this)) return null;
    return this.until(need);
  }

  override order(epoch: number): Uint32Array {
    if (epoch > 0 && !this.finished) {
      throw new Error('a streamed split was asked for its second epoch before it was read (await ready(cursor) first)');
    }
    if (epoch === 0) return (this.grouped ?? this.drawn).subarray(0, this.available);
    return super.order(epoch);
  }

  override next(cursor: DataCursor): { batch: Batch; cursor: DataCursor } {
    if (cursor.epoch === 0 && !this.finished && this.available < cursor.index + this.batchSize) {
      throw new Error(`batch at example ${cursor.index} of a streamed split drawn before it arrived (await ready(cursor) first)`);
    }
    if (cursor.epoch === 0 && !this.finished) {
      const idx = this.order(0).subarray(cursor.index, cursor.index + this.batchSize);
      return { batch: this.collectOf(idx), cursor: { epoch: 0, index: cursor.index + idx.length } };
    }
    return super.next(cursor);
  }

  /** Examples in file order — as far as they have arrived. */
  override *sequential(): Generator<Batch> {
    for (let i = 0; ; i += this.batchSize) {
      const n = this.finished ? this.store.size : this.arrived;
      if (i >= n) {
        if (this.finished) return;
        throw new Error(`a streamed split has only ${n} examples so far (read fewer batches before training starts)`);
      }
      yield this.collectOf(Array.from({ length: Math.min(this.batchSize, n - i) }, (_, k) => i + k));
    }
  }

  /** Resolves once the stream has ended (read, failed or cancelled). */
  whenDone(): Promise<void> {
    return this.until((b) => b.finished);
  }
}
