// Loads the N-API addon (native/*.c, built by scripts/build-native.mjs into
// build/Release/peft_native.node). Throws an Error whose message says why it is absent.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Float32 views are passed without copying; the C side reads/writes them in place. */
export type F32 = Float32Array;

type I32 = Int32Array;
type Shape = readonly number[];

/** The addon's functions; each C file's header comment gives the exact contract. */
export interface NativeAddon {
  /** e.g. "OpenBLAS 0.3.21 … USE_OPENMP Haswell … (core Haswell, OpenMP threading, 2 threads)". */
  blasInfo(): string;
  /** Threads the BLAS and the elementwise kernels use. */
  numThreads(): number;
  setNumThreads(n: number): void;
  /** native/gemm.c */
  matmul(a: F32, b: F32, out: F32, m: number, n: number, k: number, transA: number, transB: number,
    offA: I32, offB: I32, bias: F32 | null, biasMode: number, act: number, alpha: number): void;
  /** native/binary.c: op codes in kernels/binary_impl.ts */
  binary(op: number, a: F32, shapeA: Shape, b: F32, shapeB: Shape, out: F32): void;
  compare(op: number, a: F32, shapeA: Shape, b: F32, shapeB: Shape, out: Uint8Array): void;
  /** native/unary.c: op codes in kernels/unary_impl.ts */
  unary(op: number, x: F32, out: F32, alpha: number, beta: number): void;
  /** native/reduce.c: x as [outer, r, inner] */
  reduce(op: number, x: F32, out: F32, outer: number, r: number, inner: number): void;
  /** native/softmax.c: over the last axis */
  softmax(x: F32, out: F32, rows: number, cols: number): void;
  /** native/transpose.c: float32 or int32 */
  transpose(x: F32 | I32, out: F32 | I32, shape: Shape, perm: Shape): void;
  /** native/gather.c */
  gather(x: F32 | I32, indices: I32, out: F32 | I32, outer: number, axisSize: number, inner: number): void;
  segmentSum(x: F32, ids: I32, out: F32, numSegments: number, inner: number): void;
  /** native/select.c */
  select(cond: Uint8Array, a: F32, b: F32, out: F32, inner: number): void;
}

let cached: NativeAddon | null = null;
let failure: Error | null = null;

/** The package root (folder of peft's package.json), found from this file's location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'peft') return dir;
      } catch {
        /* keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('package root of peft not found');
    dir = up;
  }
}

/** Where the addon is expected (PEFT_NATIVE_ADDON overrides, e.g. to test the fallback). */
export function addonPath(): string {
  return process.env.PEFT_NATIVE_ADDON || join(packageRoot(), 'build', 'Release', 'peft_native.node');
}

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (failure) throw failure;
  const path = addonPath();
  try {
    if (!existsSync(path)) {
      throw new Error(`OpenBLAS addon not built: ${path} missing; install libopenblas-dev and run \`npm run build:native\``);
    }
    const require = createRequire(import.meta.url);
    cached = require(path) as NativeAddon;
    return cached;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    failure = new Error(msg.startsWith('OpenBLAS addon') ? msg : `OpenBLAS addon failed to load: ${msg.split('\n')[0]}`);
    throw failure;
  }
}
