// Helpers shared by the native kernels: typed access to the backend's data, output
// allocation, and the cpu kernel each one falls back to for cases the addon does not cover.
import { getKernel, type DataType, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import type { NativeAddon } from '../addon.js';

/** The rank the addon handles (MAX_RANK in native/common.h). */
export const MAX_RANK = 8;

export function addonOf(backend: unknown): NativeAddon {
  return (backend as NativeBackend).addon;
}

type ArrayType<T> = { new (values: ArrayLike<number>): T };

/** Conversions of tensor data stored as another array type, by source array (tensor data never
 * changes, so one copy per source serves every later read). */
const converted = { f32: new WeakMap<object, Float32Array>(), i32: new WeakMap<object, Int32Array>() };

/** The backend's data of `t` as a `Type` array: itself when it is one, else a cached copy. */
function viewAs<T extends Float32Array | Int32Array>(backend: unknown, t: TensorInfo, Type: ArrayType<T>, cache: WeakMap<object, T>): T {
  const v = (backend as NativeBackend).data.get(t.dataId).values;
  if (v instanceof (Type as unknown as typeof Float32Array)) return v as T;
  let c = cache.get(v as object);
  if (!c) {
    c = new Type(v as ArrayLike<number>);
    cache.set(v as object, c);
  }
  return c;
}

/**
 * The Float32Array behind a float32 tensor, without a copy — except that tfjs-backend-cpu's
 * Cast gives bool→float32 and int32→float32 results the input's Uint8Array/Int32Array: those
 * are converted once.
 */
export function f32(backend: unknown, t: TensorInfo): Float32Array {
  return viewAs(backend, t, Float32Array, converted.f32);
}

/** The Int32Array behind an int32 tensor (converted once when it is stored as a Uint8Array). */
export function i32(backend: unknown, t: TensorInfo): Int32Array {
  return viewAs(backend, t, Int32Array, converted.i32);
}

/** The values of a float32 or int32 tensor as the typed array its dtype says. */
export function numeric(backend: unknown, t: TensorInfo): Float32Array | Int32Array {
  return t.dtype === 'int32' ? i32(backend, t) : f32(backend, t);
}

/** The typed array behind a tensor of any numeric dtype (no copy). */
export function vals(backend: unknown, t: TensorInfo): Float32Array | Int32Array | Uint8Array {
  return (backend as NativeBackend).data.get(t.dataId).values as Float32Array | Int32Array | Uint8Array;
}

export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** A new output buffer for `n` elements of `dtype` (see NativeBackend.alloc). */
export function alloc(backend: unknown, n: number, dtype: DataType): Float32Array | Int32Array | Uint8Array {
  return (backend as NativeBackend).alloc(n, dtype);
}

export function allocF32(backend: unknown, n: number): Float32Array {
  return (backend as NativeBackend).alloc(n, 'float32') as Float32Array;
}

export function output(backend: unknown, shape: number[], dtype: DataType, values: Float32Array | Int32Array | Uint8Array): TensorInfo {
  return (backend as NativeBackend).makeTensorInfo(shape, dtype, values);
}

/** The cpu backend's kernel of that name, run on the native backend (it is a MathBackendCPU). */
export function cpuKernel(name: string): KernelFunc {
  const k = getKernel(name, 'cpu');
  if (!k) throw new Error(`tfjs-backend-cpu has no ${name} kernel`);
  return k.kernelFunc;
}

/** The kernel registered for 'native' under that name (cpu's when there is none yet). */
export function nativeKernel(name: string): KernelFunc {
  return (getKernel(name, 'native') ?? getKernel(name, 'cpu'))!.kernelFunc;
}

/** A kernel's inputs, present (tfjs-core's ops always pass the ones a kernel declares). */
export type Ins = Record<string, TensorInfo>;
