// Registers the `native` backend: a MathBackendCPU whose hot kernels call the addon.
// Every cpu kernel is registered for 'native' too, so nothing is missing; the ones in
// ./kernels replace their cpu counterparts.
//
// Output buffers of the native kernels come from a pool (./pool.ts) and return to it when the
// last tensor using one is disposed — unless it escaped to user code through readSync/read
// (dataSync(), data(), array()), in which case the GC keeps owning it.
import { buffer, engine, getKernelsForBackend, registerKernel, type DataType, type KernelConfig, type Rank, type TensorBuffer, type TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';
import { nativeKernelConfigs } from './kernels/index.js';
import { BufferPool, type Buf, type Dtype, type PoolStats } from './pool.js';

export { sizeClass } from './pool.js';

export const NATIVE = 'native';

type DataId = object;

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
  private readonly pool = new BufferPool();

  constructor(addon: NativeAddon) {
    super();
    this.addon = addon;
  }

  /** An output buffer for a kernel. Not zeroed: the kernel writes every element. */
  alloc(n: number, dtype: DataType): Buf {
    const b = this.pool.take(n, dtype as Dtype);
    if (b.length > 0) this.owned.set(b.buffer, 0);
    return b.length === n ? b : b.subarray(0, n);
  }

  /** Gives back a scratch buffer from `alloc` that no tensor holds. */
  release(b: Buf): void {
    if (this.owned.get(b.buffer) === 0) this.recycle(b.byteOffset === 0 ? whole(b) : b);
  }

  private recycle(b: Buf): void {
    this.owned.delete(b.buffer);
    // only whole buffers go back (a view into part of one is someone's slice)
    this.pool.give(b);
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
    if (buf && this.owned.has(buf)) {
      this.owned.delete(buf);
      this.pool.forget(whole(values as Buf));
    }
    return values;
  }

  /** Kernels' own reads (tfjs-backend-cpu kernels use bufferSync) do not escape. */
  override bufferSync<R extends Rank, D extends DataType>(t: TensorInfo): TensorBuffer<R, D> {
    if (t.dtype === 'string') return super.bufferSync(t);
    return buffer(t.shape, t.dtype, this.data.get(t.dataId).values as Buf) as unknown as TensorBuffer<R, D>;
  }

  /** The pool's free buffers, bytes and limits (tests, the bench). */
  poolStats(): PoolStats {
    return this.pool.stats();
  }

  /** Lets go of the pool's free buffers (work that reused them is over: a run's end). */
  trimPool(): void {
    this.pool.trim();
  }

  override dispose(): void {
    this.pool.clear();
    this.owned = new WeakMap();
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
