// Registers the `native` backend: a MathBackendCPU whose hot kernels call the addon.
// Every cpu kernel is registered for 'native' too, so nothing is missing; the ones in
// ./kernels replace their cpu counterparts.
//
// Output buffers of the native kernels are recycled: tfjs-backend-cpu leaves freed tensors to
// the garbage collector, which at training sizes (MBs per tensor, hundreds per step) means
// page faults, zero-filling and GC pauses. Here a buffer returns to a free list, by exact
// size, when the last tensor using it is disposed — unless it escaped to user code through
// readSync/read (dataSync(), data(), array()), in which case the GC keeps owning it.
import { buffer, engine, getKernelsForBackend, registerKernel, type DataType, type KernelConfig, type Rank, type TensorBuffer, type TensorInfo } from '@tensorflow/tfjs-core';
import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';
import { nativeKernelConfigs } from './kernels/index.js';

export const NATIVE = 'native';

type Buf = Float32Array | Int32Array | Uint8Array;
type DataId = object;

/** Bytes of free buffers kept for reuse (beyond this they are left to the GC): an eighth of
 * the machine's memory, at least 1 GiB (a training step's tensors are freed together at its
 * end, so the pool needs about one step's worth); PEFT_NATIVE_POOL_MB overrides. */
const POOL_LIMIT = process.env.PEFT_NATIVE_POOL_MB
  ? Number(process.env.PEFT_NATIVE_POOL_MB) * 2 ** 20
  : Math.min(2 ** 30, totalmem() / 8);

/**
 * Buffers come in size classes (quarter powers of two above 4096 elements, ≤ 19% slack) and a
 * kernel gets a view of the exact length: with dynamic padding every batch has other shapes,
 * and exact-size free lists would fill the pool with sizes never asked for again.
 */
export function sizeClass(n: number): number {
  if (n <= 4096) return n;
  return Math.ceil(2 ** (Math.ceil(Math.log2(n) * 4) / 4));
}

/** The whole buffer behind a view from `alloc` (a view at offset 0 of a pooled buffer). */
function whole(values: Buf): Buf {
  return values.byteLength === values.buffer.byteLength ? values : new (values.constructor as new (b: ArrayBufferLike) => Buf)(values.buffer);
}

/** tfjs-backend-cpu's backend, holding the addon its kernels call and a buffer pool. */
export class NativeBackend extends MathBackendCPU {
  readonly addon: NativeAddon;
  /** Buffers from `alloc` still held by tensors: how many data entries use each. (Weak: a
   * buffer a failed kernel never handed over is simply collected.) */
  private owned = new WeakMap<ArrayBufferLike, number>();
  /** Free buffers by dtype and length. */
  private free = new Map<string, Buf[]>();
  private freeBytes = 0;

  constructor(addon: NativeAddon) {
    super();
    this.addon = addon;
  }

  /** An output buffer for a kernel. Not zeroed: the kernel writes every element. */
  alloc(n: number, dtype: DataType): Buf {
    const cap = sizeClass(n);
    const list = this.free.get(`${dtype}:${cap}`);
    const reused = list?.pop();
    if (reused) {
      this.freeBytes -= reused.byteLength;
      this.owned.set(reused.buffer, 0);
      return cap === n ? reused : reused.subarray(0, n);
    }
    const b = dtype === 'int32' ? new Int32Array(cap) : dtype === 'bool' ? new Uint8Array(cap) : new Float32Array(cap);
    if (n > 0) this.owned.set(b.buffer, 0);
    return cap === n ? b : b.subarray(0, n);
  }

  /** Gives back a scratch buffer from `alloc` that no tensor holds. */
  release(b: Buf): void {
    if (this.owned.get(b.buffer) === 0) this.recycle(b.byteOffset === 0 ? whole(b) : b);
  }

  private recycle(b: Buf): void {
    this.owned.delete(b.buffer);
    if (this.freeBytes + b.byteLength > POOL_LIMIT) return;
    const dtype = b instanceof Int32Array ? 'int32' : b instanceof Uint8Array ? 'bool' : 'float32';
    // Only whole buffers go back (a view into part of one is someone's slice).
    if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength) return;
    const key = `${dtype}:${b.length}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(b);
    this.freeBytes += b.byteLength;
  }

  private track(values: unknown, delta: number): void {
    const buf = (values as Buf | undefined)?.buffer;
    if (!buf) return;
    const count = this.owned.get(buf);
    if (count === undefined) return;
    this.owned.set(buf, count + delta);
  }

  override write(values: Buf, shape: number[], dtype: DataType): DataId {
    const id = super.write(values, shape, dtype);
    this.track(values, +1);
    return id;
  }

  override move(dataId: DataId, values: Buf, shape: number[], dtype: DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.track(values, +1);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const gone = super.disposeData(dataId, force);
    if (gone && entry && !this.data.has(dataId)) {
      const values = entry.values as Buf | undefined;
      const buf = values?.buffer;
      const count = buf ? this.owned.get(buf) : undefined;
      if (values && buf && count !== undefined) {
        if (count <= 1) {
          this.recycle(whole(values));
        } else {
          this.owned.set(buf, count - 1);
        }
      }
    }
    return gone;
  }

  /** Values handed to user code (dataSync, data, array) are never recycled. */
  override readSync(dataId: DataId) {
    const values = super.readSync(dataId);
    const buf = (values as Buf).buffer;
    if (buf) this.owned.delete(buf);
    return values;
  }

  /** Kernels' own reads (tfjs-backend-cpu kernels use bufferSync) do not escape. */
  override bufferSync<R extends Rank, D extends DataType>(t: TensorInfo): TensorBuffer<R, D> {
    if (t.dtype === 'string') return super.bufferSync(t);
    return buffer(t.shape, t.dtype, this.data.get(t.dataId).values as Buf) as unknown as TensorBuffer<R, D>;
  }

  /** Number of free buffers and their bytes (for tests). */
  poolStats(): { buffers: number; bytes: number } {
    let buffers = 0;
    for (const l of this.free.values()) buffers += l.length;
    return { buffers, bytes: this.freeBytes };
  }

  override dispose(): void {
    this.free.clear();
    this.owned = new WeakMap();
    this.freeBytes = 0;
    super.dispose();
  }
}

let registered = false;

export function registerNativeBackend(addon: NativeAddon): void {
  if (registered) return;
  // The cpu kernels are registered when tfjs-backend-cpu is imported (./kernels does).
  const overrides = nativeKernelConfigs();
  const overridden = new Set(overrides.map((k) => k.kernelName));
  for (const k of overrides) registerKernel({ ...k, backendName: NATIVE });
  for (const k of getKernelsForBackend('cpu')) {
    if (!overridden.has(k.kernelName)) registerKernel({ ...k, backendName: NATIVE } as KernelConfig);
  }
  // Priority below the default-chosen ones: selection is explicit (initBackend), never by priority.
  engine().registerBackend(NATIVE, () => new NativeBackend(addon), 0);
  registered = true;
}
