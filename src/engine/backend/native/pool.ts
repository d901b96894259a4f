// The native backend's pool of output buffers. tfjs-backend-cpu leaves freed tensors to the
// garbage collector, which at training sizes (MBs per tensor, hundreds per step) means page faults,
// zero-filling and GC pauses; here a buffer goes back to a free list when its last tensor is
// disposed and the next kernel asking for that size class reuses it.
//
// How much it keeps follows the work: at most as many free bytes as the most that tensors have held
// at once (a training step frees its tensors together at its end, so one step's worth is what the
// next step reuses), never above a hard cap. With variable-length batches every step has other
// shapes; buffers come in size classes (≤ 19% slack), and when the pool is full the classes used
// least recently are dropped first, so sizes no batch asks for any more do not stay.
import { totalmem } from 'node:os';

export type Buf = Float32Array | Int32Array | Uint8Array;
export type Dtype = 'float32' | 'int32' | 'bool';

/** The hard cap of free bytes: an eighth of the machine's memory, at most 1 GiB; PEFT_NATIVE_POOL_MB overrides. */
export function poolCap(): number {
  const env = Number(process.env.PEFT_NATIVE_POOL_MB);
  return Number.isFinite(env) && env >= 0 && process.env.PEFT_NATIVE_POOL_MB ? env * 2 ** 20 : Math.min(2 ** 30, totalmem() / 8);
}

/** Free bytes the pool may keep even before tensors have held that much (small models' steps). */
const FLOOR = 16 * 2 ** 20;

/** Elements of a buffer for `n` (quarter powers of two above 4096 elements, ≤ 19% slack). */
export function sizeClass(n: number): number {
  if (n <= 4096) return n;
  return classAt(Math.ceil(Math.log2(n) * 4));
}

/** The k-th size class (2^(k/4) elements, rounded up). */
function classAt(k: number): number {
  return Math.ceil(2 ** (k / 4));
}

/**
 * Larger classes a request may be served from when its own is empty (up to 3 steps, < 2× its
 * size): with variable-length batches a step's tensors are a little smaller or larger than the
 * last step's, and a free buffer a class up serves better than a new one.
 */
const REACH = 3;

interface FreeList {
  buffers: Buf[];
  /** The allocation counter when the class was last asked for (least recently used goes first). */
  used: number;
}

export interface PoolStats {
  /** Free buffers and their bytes. */
  buffers: number;
  bytes: number;
  /** Bytes of pool buffers held by tensors now, and the most held at once. */
  liveBytes: number;
  peakLiveBytes: number;
  /** Free bytes it may keep now. */
  limit: number;
}

export class BufferPool {
  private free = new Map<string, FreeList>();
  private freeBytes = 0;
  private live = 0;
  private peak = 0;
  private clock = 0;

  constructor(private readonly cap = poolCap()) {}

  private key(dtype: Dtype, cap: number): string {
    return `${dtype}:${cap}`;
  }

  /** Free bytes allowed now: the peak of bytes in use (one step's worth), between FLOOR and the cap. */
  get limit(): number {
    return Math.min(this.cap, Math.max(FLOOR, this.peak));
  }

  /** A whole buffer of at least n elements: a free one of n's size class or a few classes up, else a new one of n's class. */
  take(n: number, dtype: Dtype): Buf {
    const cap = sizeClass(n);
    this.clock++;
    let b: Buf | undefined;
    const k = n <= 4096 ? null : Math.ceil(Math.log2(n) * 4);
    for (let step = 0; step <= (k === null ? 0 : REACH) && !b; step++) {
      const list = this.free.get(this.key(dtype, k === null ? cap : classAt(k + step)));
      if (!list) continue;
      list.used = this.clock;
      b = list.buffers.pop();
    }
    if (b) this.freeBytes -= b.byteLength;
    else b = dtype === 'int32' ? new Int32Array(cap) : dtype === 'bool' ? new Uint8Array(cap) : new Float32Array(cap);
    this.live += b.byteLength;
    if (this.live > this.peak) this.peak = this.live;
    return b;
  }

  /** A buffer from `take` is no longer held by the pool's accounting (it escaped to user code). */
  forget(b: Buf): void {
    this.live = Math.max(0, this.live - b.byteLength);
  }

  /** Gives back a whole buffer from `take`; it is kept for reuse while the limit allows. */
  give(b: Buf): void {
    this.live = Math.max(0, this.live - b.byteLength);
    if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength) return;
    const limit = this.limit;
    if (b.byteLength > limit) return;
    if (this.freeBytes + b.byteLength > limit) this.evict(this.freeBytes + b.byteLength - limit);
    const dtype: Dtype = b instanceof Int32Array ? 'int32' : b instanceof Uint8Array ? 'bool' : 'float32';
    const key = this.key(dtype, b.length);
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = { buffers: [], used: this.clock }));
    list.buffers.push(b);
    this.freeBytes += b.byteLength;
  }

  /** Drops free buffers of the least recently used classes until `bytes` are gone. */
  private evict(bytes: number): void {
    const order = [...this.free.entries()].sort((a, b) => a[1].used - b[1].used);
    let left = bytes;
    for (const [key, list] of order) {
      while (left > 0 && list.buffers.length > 0) {
        const b = list.buffers.pop()!;
        this.freeBytes -= b.byteLength;
        left -= b.byteLength;
      }
      if (list.buffers.length === 0) this.free.delete(key);
      if (left <= 0) return;
    }
  }

  stats(): PoolStats {
    let buffers = 0;
    for (const l of this.free.values()) buffers += l.buffers.length;
    return { buffers, bytes: this.freeBytes, liveBytes: this.live, peakLiveBytes: this.peak, limit: this.limit };
  }

  /** Drops every free buffer (the GC takes them); the accounting of live bytes stays. */
  trim(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  clear(): void {
    this.trim();
    this.live = 0;
    this.peak = 0;
  }
}
