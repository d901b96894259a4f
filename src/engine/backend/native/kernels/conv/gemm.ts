// The native addon's sgemm for the convolution kernels of this folder: y = a·b with transpose
// flags, one matrix (no batch), and scratch buffers from the backend's pool.
import { addonOf } from '../util.js';
import type { NativeBackend } from '../../backend.js';

const ZERO = new Int32Array([0]);

/** out [m, n] = op(a) · op(b), with op(a) [m, k] and op(b) [k, n]. */
export function gemm(backend: unknown, a: Float32Array, b: Float32Array, out: Float32Array, m: number, n: number, k: number, transA = false, transB = false): void {
  addonOf(backend).matmul(a, b, out, m, n, k, transA ? 1 : 0, transB ? 1 : 0, ZERO, ZERO, null, 0, 0, 0);
}

/** A scratch buffer of n floats (not zeroed), to give back with `release`. */
export function scratch(backend: unknown, n: number): Float32Array {
  return (backend as NativeBackend).alloc(n, 'float32') as Float32Array;
}

export function release(backend: unknown, b: Float32Array): void {
  (backend as NativeBackend).release(b);
}
