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
  /** native/binary.c: op codes in kernels/binary.ts */
  binary(op: number, a: F32, shapeA: Shape, b: F32, shapeB: Shape, out: F32): void;
  compare(op: number, a: F32, shapeA: Shape, b: F32, shapeB: Shape, out: Uint8Array): void;
  /** native/unary.c: op codes in kernels/unary.ts */
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
  /** native/tile.c: float32 or int32 */
  tile(x: F32 | I32, out: F32 | I32, shape: Shape, reps: Shape): void;
  /** native/slice_pad.c: float32 or int32 */
  slice(x: F32 | I32, out: F32 | I32, shape: Shape, begin: Shape, size: Shape): void;
  pad(x: F32 | I32, out: F32 | I32, shape: Shape, before: Shape, after: Shape, value: number): void;
  /** native/select.c */
  select(cond: Uint8Array, a: F32, b: F32, out: F32, inner: number): void;
  /** native/fused.c: mode 0 tanh approximation, 1 exact (erf) */
  gelu(mode: number, x: F32, out: F32): void;
  geluGrad(mode: number, x: F32, dy: F32, dx: F32): void;
  layerNorm(x: F32, gamma: F32, beta: F32 | null, y: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  layerNormGrad(x: F32, gamma: F32, dy: F32, mean: F32, rstd: F32, dx: F32, dgamma: F32, dbeta: F32, rows: number, cols: number): void;
  /** native/rms_norm.c; grad which 0: dx, 1: dw */
  rmsNorm(x: F32, w: F32, y: F32, rows: number, cols: number, eps: number): void;
  rmsNormGrad(which: number, x: F32, w: F32, dy: F32, out: F32, rows: number, cols: number, eps: number): void;
  /** native/swiglu.c; grad which 0: d gate, 1: d up */
  swiglu(gate: F32, up: F32, y: F32, n: number): void;
  swigluGrad(which: number, gate: F32, up: F32, dy: F32, out: F32, n: number): void;
  /** native/cross_entropy.c: logits [rows, cols], labels and g [rows] */
  crossEntropy(logits: F32, labels: Int32Array, nll: F32, rows: number, cols: number): void;
  crossEntropyGrad(logits: F32, labels: Int32Array, g: F32, dx: F32, rows: number, cols: number): void;
  /** native/attention.c: dims [B, T, S, H, Hkv, d], maskDims [mB, mT] */
  attention(q: F32, k: F32, v: F32, mask: F32 | null, maskDims: Shape, cos: F32 | null, sin: F32 | null, out: F32, lse: F32, dims: Shape, scale: number): void;
  attentionGrad(q: F32, k: F32, v: F32, mask: F32 | null, maskDims: Shape, cos: F32 | null, sin: F32 | null, lse: F32, dout: F32,
    dq: F32, dk: F32, dv: F32, dims: Shape, scale: number): void;
  /** native/lora.c: dims [N, in, out, r, transW]; grad which 0: dx, 1: dA, 2: dB */
  loraLinear(x: F32, w: F32, bias: F32 | null, a: F32, b: F32, y: F32, dims: Shape, scale: number): void;
  loraGrad(which: number, x: F32, w: F32, a: F32, b: F32, dy: F32, out: F32, dims: Shape, scale: number): void;
  /** native/adam.c: consts [l2, decay, β1, 1−β1, β2, 1−β2, √(1−β2^t), eps, stepSize] */
  adam(p: F32, g: F32, m: F32 | null, v: F32 | null, pOut: F32, mOut: F32, vOut: F32, n: number, consts: F32): void;
  sumSquares(xs: F32[], out: F32): void;
}

/** CPU flags from /proc/cpuinfo (empty elsewhere). */
function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/**
 * The OpenBLAS core (kernel set) for this CPU: PEFT_OPENBLAS_CORETYPE if set ('env' keeps
 * OPENBLAS_CORETYPE as the environment has it); else SkylakeX when the CPU has AVX-512
 * (F, DQ, BW, VL) — 1.7-1.9× the Haswell kernels' GFLOP/s on the bench's products here — else
 * whatever OPENBLAS_CORETYPE says (or OpenBLAS's own detection).
 */
export function chosenCoretype(): string | undefined {
  const forced = process.env.PEFT_OPENBLAS_CORETYPE;
  if (forced && forced !== 'auto') return forced === 'env' ? process.env.OPENBLAS_CORETYPE : forced;
  const f = cpuFlags();
  if (['avx512f', 'avx512dq', 'avx512bw', 'avx512vl'].every((x) => f.has(x))) return 'SkylakeX';
  return process.env.OPENBLAS_CORETYPE;
}

/**
 * Runs `load` with the environment OpenBLAS and libgomp read when the addon loads them, then
 * puts the environment back (child processes see the user's own settings):
 * - OPENBLAS_CORETYPE: see chosenCoretype;
 * - GOMP_SPINCOUNT 50000 (unless GOMP_SPINCOUNT or OMP_WAIT_POLICY is set): libgomp's default
 *   spin before sleeping (~ms) is best on an idle machine, but when other processes want the
 *   cores a waiting thread spins on a core someone else needs, and steps took 5-10× longer;
 *   50000 spins cost nothing measurable when idle and halve that loss.
 */
function withLoadEnv<T>(load: () => T): T {
  const saved = { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE, GOMP_SPINCOUNT: process.env.GOMP_SPINCOUNT };
  const core = chosenCoretype();
  if (core) process.env.OPENBLAS_CORETYPE = core;
  if (process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined) process.env.GOMP_SPINCOUNT = '50000';
  try {
    return load();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Every function the kernels call (the NativeAddon interface). */
const REQUIRED: readonly (keyof NativeAddon)[] = [
  'blasInfo', 'numThreads', 'setNumThreads', 'matmul', 'binary', 'compare', 'unary', 'reduce', 'softmax', 'transpose',
  'gather', 'segmentSum', 'select', 'tile', 'slice', 'pad', 'gelu', 'geluGrad', 'layerNorm', 'layerNormGrad',
  'rmsNorm', 'rmsNormGrad', 'swiglu', 'swigluGrad', 'crossEntropy', 'crossEntropyGrad', 'attention', 'attentionGrad', 'loraLinear', 'loraGrad', 'adam', 'sumSquares',
];

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
    const addon = withLoadEnv(() => require(path) as NativeAddon);
    // An addon built from older sources lacks newer functions: unavailable, not a crash later.
    const missing = REQUIRED.filter((f) => typeof (addon as unknown as Record<string, unknown>)[f] !== 'function');
    if (missing.length > 0) {
      throw new Error(`OpenBLAS addon out of date (no ${missing.join(', ')}): run \`npm run build:native\``);
    }
    cached = addon;
    return cached;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    failure = new Error(msg.startsWith('OpenBLAS addon') ? msg : `OpenBLAS addon failed to load: ${msg.split('\n')[0]}`);
    throw failure;
  }
}
