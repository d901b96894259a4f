// The `wasm` backend (@tensorflow/tfjs-backend-wasm): found on disk under Node, completed with
// the kernels training needs (./wasm-kernels), and its thread count reported honestly.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
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

/** Prepares the wasm backend (paths + missing kernels). Initialisation happens on setBackend. */
export async function prepareWasm(): Promise<WasmLoaded> {
  setPathsOnce();
  const added = registerWasmKernels();
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
