// Tokenised examples, stored compactly: every sequence field (ids, type ids, token labels,
// decoder ids, pixels) is one flat typed pool with per-example offsets, and scalar labels are one
// Float64 array — about 4 bytes per token and 24 per example, where an array of JS objects costs
// ~150 bytes per example before its ids. A pool that outgrows its share of the memory budget
// moves to an anonymous temporary file (created, then unlinked at once, so nothing is left behind
// even if the process is killed) and is read back by offset; the OS page cache keeps the hot part.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TokenExample } from './batches.js';

/** Default memory budget of one store (all pools together). */
export const DEFAULT_STORE_BYTES = 512 * 1024 * 1024;

type Elem = Int32Array | Float32Array;
type Kind = 'int32' | 'float32';

function growTo<T extends Int32Array | Float32Array | Float64Array>(a: T, n: number, make: (n: number) => T): T {
  if (n <= a.length) return a;
  const b = make(Math.max(n, Math.ceil(a.length * 1.5), 1024));
  b.set(a);
  return b;
}

function make(kind: Kind, n: number): Elem {
  return kind === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

/** One sequence field of every example: appended in order, read by example index. */
class SeqPool {
  private data: Elem;
  private used = 0;
  private offsets = new Float64Array(1024);
  private count = 0;
  private fd: number | null = null;
  private pending: Elem;
  private pendingUsed = 0;

  constructor(readonly kind: Kind, private readonly limitElems: number) {
    this.data = make(kind, 1024);
    this.pending = make(kind, 0);
  }

  get onDisk(): boolean {
    return this.fd !== null;
  }

  /** Elements held (in memory or on disk). */
  get elements(): number {
    return this.used;
  }

  push(values: ArrayLike<number>): void {
    this.offsets = growTo(this.offsets, this.count + 2, (n) => new Float64Array(n));
    this.offsets[this.count] = this.used;
    if (this.fd === null && this.used + values.length > this.limitElems) this.spill();
    if (this.fd === null) {
      this.data = growTo(this.data, this.used + values.length, (n) => make(this.kind, n) as typeof this.data);
      this.data.set(values, this.used);
    } else {
      if (this.pendingUsed + values.length > this.pending.length) this.flush();
      if (values.length > this.pending.length) this.write(this.kind === 'int32' ? Int32Array.from(values) : Float32Array.from(values));
      else {
        this.pending.set(values, this.pendingUsed);
        this.pendingUsed += values.length;
      }
    }
    this.used += values.length;
    this.count++;
    this.offsets[this.count] = this.used;
  }

  /** Elements of entry i. */
  lengthOf(i: number): number {
    return (this.offsets[i + 1] as number) - (this.offsets[i] as number);
  }

  get(i: number): Elem {
    const start = this.offsets[i] as number;
    const end = this.offsets[i + 1] as number;
    if (this.fd === null) return this.data.subarray(start, end);
    if (this.pendingUsed > 0) this.flush();
    const out = make(this.kind, end - start);
    const bytes = new Uint8Array(out.buffer);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(this.fd, bytes, got, bytes.length - got, start * 4 + got);
      if (n === 0) throw new Error(`token store: short read at element ${start}`);
      got += n;
    }
    return out;
  }

  /** Moves what is in memory to an anonymous temporary file; later appends go there too. */
  private spill(): void {
    const path = join(tmpdir(), `peft-tokens-${process.pid}-${randomBytes(6).toString('hex')}.bin`);
    this.fd = openSync(path, 'w+', 0o600);
    unlinkSync(path);
    this.write(this.data.subarray(0, this.used));
    this.data = make(this.kind, 0);
    this.pending = make(this.kind, 1 << 18);
  }

  private flush(): void {
    if (this.pendingUsed === 0) return;
    this.write(this.pending.subarray(0, this.pendingUsed));
    this.pendingUsed = 0;
  }

  private written = 0;

  private write(a: Elem): void {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd as number, bytes, done, bytes.length - done, this.written * 4 + done);
    this.written += a.length;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

const FIELDS = ['ids', 'typeIds', 'tokenLabels', 'decoderIds', 'target', 'pixels'] as const;
type Field = (typeof FIELDS)[number];

/** What a set of examples offers a batcher: a size and random access. */
export interface ExampleSet {
  readonly size: number;
  get(i: number): TokenExample;
  /** Input length (ids) of example i, without reading it. */
  length(i: number): number;
  /** Examples start … end − 1, as a view. */
  slice(start: number, end?: number): ExampleSet;
}

/** A contiguous part of another set. */
class SliceView implements ExampleSet {
  constructor(private readonly base: ExampleSet, private readonly start: number, readonly size: number) {}
  get(i: number): TokenExample {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`example ${i} of ${this.size}`);
    return this.base.get(this.start + i);
  }
  length(i: number): number {
    return this.base.length(this.start + i);
  }
  slice(start: number, end?: number): ExampleSet {
    return sliceOf(this, start, end);
  }
}

function sliceOf(set: ExampleSet, start: number, end = set.size): ExampleSet {
  const s = Math.max(0, Math.min(start, set.size));
  const e = Math.max(s, Math.min(end, set.size));
  return new SliceView(set, s, e - s);
}

/** Examples as plain objects (tests, small evaluation sets). */
export class ArrayExampleSet implements ExampleSet {
  constructor(readonly items: readonly TokenExample[]) {}
  get size(): number {
    return this.items.length;
  }
  get(i: number): TokenExample {
    return this.items[i] as TokenExample;
  }
  length(i: number): number {
    return (this.items[i] as TokenExample).ids.length;
  }
  slice(start: number, end?: number): ExampleSet {
    return new ArrayExampleSet(this.items.slice(start, end));
  }
}

/** Examples in flat typed pools (see the file's header). Every example must carry the same fields. */
export class TokenStore implements ExampleSet {
  private readonly pools: Partial<Record<Field, SeqPool>> = {};
  private labels = new Float64Array(0);
  private wheres: string[] | null = null;
  private hasLabel = false;
  private n = 0;
  /** Tokens (ids) appended. */
  tokens = 0;

  /** `keepWhere`: remember each example's place (evaluation and prediction report by row). */
  constructor(private readonly budgetBytes = DEFAULT_STORE_BYTES, keepWhere = false) {
    if (keepWhere) this.wheres = [];
  }

  get size(): number {
    return this.n;
  }

  /** True when some pool lives on disk. */
  get spilled(): boolean {
    return Object.values(this.pools).some((p) => p.onDisk);
  }

  add(ex: TokenExample): void {
    if (this.n === 0) {
      this.hasLabel = ex.label !== undefined;
      const present = FIELDS.filter((f) => ex[f] !== undefined);
      for (const f of present) this.pools[f] = new SeqPool(f === 'pixels' ? 'float32' : 'int32', Math.floor(this.budgetBytes / 4 / present.length));
    }
    for (const f of FIELDS) {
      const v = ex[f];
      const pool = this.pools[f];
      if ((v === undefined) !== (pool === undefined)) throw new Error(`token store: example ${this.n} ${v === undefined ? 'lacks' : 'adds'} field ${f}`);
      if (v !== undefined && pool !== undefined) pool.push(v);
    }
    if (this.hasLabel) {
      this.labels = growTo(this.labels, this.n + 1, (k) => new Float64Array(k));
      this.labels[this.n] = ex.label ?? 0;
    }
    this.wheres?.push(ex.where ?? '');
    this.tokens += ex.ids.length;
    this.n++;
  }

  get(i: number): TokenExample {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`example ${i} of ${this.n}`);
    const ex: TokenExample = { ids: this.pools.ids!.get(i) as Int32Array };
    for (const f of FIELDS) {
      if (f === 'ids') continue;
      const pool = this.pools[f];
      if (pool !== undefined) (ex as unknown as Record<string, Elem>)[f] = pool.get(i);
    }
    if (this.hasLabel) ex.label = this.labels[i];
    if (this.wheres) ex.where = this.wheres[i];
    return ex;
  }

  length(i: number): number {
    return this.pools.ids!.lengthOf(i);
  }

  slice(start: number, end?: number): ExampleSet {
    return sliceOf(this, start, end);
  }

  /** Releases the temporary files (memory goes with the object). */
  close(): void {
    for (const p of Object.values(this.pools)) p.close();
  }
}
