// Kernels that tfjs-backend-wasm 4.22 lacks or gets wrong for training, one file per kernel
// (as tfjs-core does), each written in JS over the wasm backend's heap or its other kernels.
// test/engine/backend/wasm.test.ts lists every kernel the engine relies on and checks that
// wasm has it and matches the cpu backend.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './BatchMatMul.js';
import { einsumConfig } from './Einsum.js';
import { floorDivConfig } from './FloorDiv.js';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum.js';
import { WASM_CONV_KERNELS } from './conv-kernels.js';

/** Kernels wasm lacks. */
export const WASM_EXTRA_KERNELS: readonly KernelConfig[] = [unsortedSegmentSumConfig, einsumConfig, ...WASM_CONV_KERNELS];

/** Kernels wasm has but that differ from the cpu backend or are slow where training needs them,
 * wrapped: name → wrapper factory. */
const WASM_FIXED_KERNELS: Record<string, (original: KernelConfig) => KernelConfig> = {
  FloorDiv: floorDivConfig,
  BatchMatMul: batchMatMulConfig,
};

let fixed = false;

/** Registers the missing and fixed kernels for 'wasm' (idempotent). Returns how many. */
export function registerWasmKernels(): number {
  let count = 0;
  for (const config of WASM_EXTRA_KERNELS) {
    if (getKernel(config.kernelName, 'wasm') == null) registerKernel(config);
    count++;
  }
  for (const [name, wrap] of Object.entries(WASM_FIXED_KERNELS)) {
    const original = getKernel(name, 'wasm');
    if (original && !fixed) {
      unregisterKernel(name, 'wasm');
      registerKernel(wrap(original));
    }
    count++;
  }
  fixed = true;
  return count;
}
