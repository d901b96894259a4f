// Shared by the fused ops: whether the active backend has a kernel.
import * as tf from '@tensorflow/tfjs-core';

/** True when the active backend registers `kernel` (the native backend's Peft* kernels). */
export function hasKernel(kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) != null;
}
