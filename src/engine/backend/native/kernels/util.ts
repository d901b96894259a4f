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

/** float32 views of tensors stored as other arrays (see f32), by source array. */
const converted = new WeakMap<object, Float32Array>();

/**
 * The Float32Array behind a float32 tensor, without a copy — except that tfjs-backend-cpu's
 * Cast gives bool→float32 and int32→float32 results the input's Uint8Array/Int32Array: those
 * are converted once (tensor data never changes, so the copy is cached by source array).
 */
export function f32(backend: unknown, t: TensorInfo): Float32Array {
  const v = (backend as NativeBackend).data.get(t.dataId).values;
  if (v instanceof Float32Array) return v;
  let c = converted.get(v as object);
  if (!c) {
    c = new Float32Array(v as ArrayLike<number>);
    converted.set(v as object, c);
  }
  return c;
}

/** The Int32Array behind an int32 tensor (converted once when it is stored as a Uint8Array). */
export function i32(backend: unknown, t: TensorInfo): Int32Array {
  const v = (backend as NativeBackend).data.get(t.dataId).values;
  if (v instanceof Int32Array) return v;
  let c = convertedI32.get(v as object);
  if (!c) {
    c = new Int32Array(v as ArrayLike<number>);
    convertedI32.set(v as object, c);
  }
  return c;
}

const convertedI32 = new WeakMap<object, Int32Array>();

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
