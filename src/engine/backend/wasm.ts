// The `wasm` backend (@tensorflow/tfjs-backend-wasm): found on disk under Node, completed with
// the kernels training needs (./wasm-kernels), on all cores when it can, and its thread count
// reported honestly.
//
// Threads: tfjs-backend-wasm 4.22 turns its threaded build off under Node (tfjs issue #3830)
// because that build starts its pthread workers from blob: URLs, which Node's workers cannot
// load. Here the worker script is written to a real file (tmpdir), the blob URLs are mapped to
// real files while the backend starts, and XNNPACK's pool — which it caps at half the logical
// cores, assuming SMT — is given the cores there are. Any failure falls back to one thread.
// PEFT_WASM_THREADS=n sets the count (1 turns threads off).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import workerThreads, { type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm-kernels/index.js';

const require = createRequire(import.meta.url);
let pathsSet = false;

/** Directory holding tfjs-backend-wasm's .wasm binaries (its dist folder). */
export function wasmDistDir(): string {
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

/** Points the wasm backend at its binaries (must happen before its first initialisation). */
function setPathsOnce(): void {
  if (pathsSet) return;
  const dir = wasmDistDir();
  if (!existsSync(join(dir, 'tfjs-backend-wasm.wasm'))) {
    throw new Error(`tfjs-backend-wasm binaries not found in ${dir}`);
  }
  setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
  pathsSet = true;
}

export interface WasmLoaded {
  tfName: 'wasm';
  threads: () => number;
  detail: string;
}

function wantedThreads(): number {
  const env = process.env.PEFT_WASM_THREADS;
  if (env !== undefined && env !== '') return Math.max(1, Math.floor(Number(env)) || 1);
  return os.availableParallelism();
}

/**
 * The pthread worker script as a real file: tfjs's worker source, preceded by a
 * URL.createObjectURL that turns the main-script blob it receives into the package's file.
 */
function writeWorkerScript(): string {
  const wasmOut = join(wasmDistDir(), '..', 'wasm-out');
  const mainScript = join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const source = (require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string })
    .wasmWorkerContents;
  // The source is one line whose string literals hold raw newlines (tfjs escapes them too).
  const text =
    `URL.createObjectURL = () => ${JSON.stringify(mainScript)}; URL.revokeObjectURL = () => {};\n` +
    source.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const dir = join(os.tmpdir(), `peft-tfjs-wasm-${version_wasm}-${hash}`);
  const file = join(dir, 'worker.js');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return file;
}

/** Starts the wasm backend with `threads` threads; true when it did. Restores what it patched. */
async function startThreaded(threads: number): Promise<boolean> {
  const workerFile = writeWorkerScript();
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  const previous = tf.engine().backendName;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  URL.createObjectURL = () => workerFile;
  // XNNPACK sizes its pool to half the logical cores it sees.
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  // The workers must not inherit this process's node flags (--input-type, -e, loaders…): a
  // worker that fails to start takes the process down.
  const OriginalWorker = workerThreads.Worker;
  (workerThreads as { Worker: typeof OriginalWorker }).Worker = class extends OriginalWorker {
    constructor(file: string | URL, options: WorkerOptions = {}) {
      super(file, { ...options, execArgv: [] });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 15000)));
    const ok = await Promise.race([tf.setBackend('wasm'), timeout]);
    if (!ok) return false;
    // Idle pthread workers must not keep the process alive.
    const pthreads = (tf.findBackend('wasm') as BackendWasm).wasm as unknown as {
      PThread?: { unusedWorkers: { unref(): void }[]; runningWorkers: { unref(): void }[] };
    };
    for (const w of [...(pthreads.PThread?.unusedWorkers ?? []), ...(pthreads.PThread?.runningWorkers ?? [])]) w.unref();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    (workerThreads as { Worker: typeof OriginalWorker }).Worker = OriginalWorker;
    if (previous && previous !== 'wasm') await tf.setBackend(previous);
  }
}

let started: Promise<void> | null = null;

/** Starts wasm threaded when wanted and possible, else single-threaded (once). */
function start(): Promise<void> {
  if (!started) {
    started = (async () => {
      const threads = wantedThreads();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      if (threads > 1 && simd && typeof SharedArrayBuffer === 'function') {
        try {
          if (await startThreaded(threads)) return;
        } catch {
          /* fall through to one thread */
        }
      }
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    })();
  }
  return started;
}

/** Prepares the wasm backend (paths, missing kernels, threads). */
export async function prepareWasm(): Promise<WasmLoaded> {
  setPathsOnce();
  const added = registerWasmKernels();
  await start();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return {
    tfName: 'wasm',
    threads: () => {
      try {
        return getThreadsCount();
      } catch {
        return 1;
      }
    },
    detail: `${simd ? 'SIMD' : 'no SIMD'}; ${added} kernels added or fixed by peft`,
  };
}
