// Kernels that tfjs-backend-wasm 4.22 lacks but training needs, one file per kernel
// (as tfjs-core does). Each is written in JS over the wasm backend's heap.
import { getKernel, registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';

/** Every kernel config this folder provides. */
export const WASM_EXTRA_KERNELS: readonly KernelConfig[] = [];

/** Registers the missing kernels for 'wasm' (idempotent). Returns how many this folder provides. */
export function registerWasmKernels(): number {
  for (const config of WASM_EXTRA_KERNELS) {
    if (getKernel(config.kernelName, 'wasm') == null) registerKernel(config);
  }
  return WASM_EXTRA_KERNELS.length;
}
