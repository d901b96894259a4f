// Per-kernel timing on the active backend: which kernels a training step spends its time in.
// Wraps every kernel registered for the backend with a timer while `fn` runs, then puts the
// originals back. (Backends here run kernels synchronously, so wall time is kernel time.)
//
//   const table = await profileKernels(() => step());  // sorted, largest first
//   console.log(formatProfile(table));
import * as tf from '@tensorflow/tfjs-core';

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/** 'wall' (default) or 'cpu': process CPU time (all threads), robust to other processes
 * competing for the cores when the backend runs on one thread. */
export type ProfileClock = 'wall' | 'cpu';

function clock(kind: ProfileClock): () => number {
  if (kind === 'wall') return () => performance.now();
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
}

export async function profileKernels(
  fn: () => unknown | Promise<unknown>,
  backendName = tf.getBackend(),
  clockKind: ProfileClock = 'wall',
): Promise<KernelTime[]> {
  const now = clock(clockKind);
  const configs = tf.getKernelsForBackend(backendName);
  const stats = new Map<string, KernelTime>();
  let depth = 0;
  for (const config of configs) {
    const original = config.kernelFunc;
    const entry: KernelTime = { kernel: config.kernelName, calls: 0, ms: 0 };
    stats.set(config.kernelName, entry);
    const timed: tf.KernelFunc = (args) => {
      // Only the outermost kernel counts (kernels calling kernels through the registry).
      const outer = depth === 0;
      depth++;
      const t0 = outer ? now() : 0;
      try {
        return original(args);
      } finally {
        depth--;
        if (outer) {
          entry.ms += now() - t0;
          entry.calls++;
        }
      }
    };
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  try {
    await fn();
  } finally {
    for (const config of configs) {
      tf.unregisterKernel(config.kernelName, backendName);
      tf.registerKernel(config);
    }
  }
  return [...stats.values()].filter((s) => s.calls > 0).sort((a, b) => b.ms - a.ms);
}

export function formatProfile(table: KernelTime[], limit = 25): string {
  const total = table.reduce((s, k) => s + k.ms, 0);
  const lines = table
    .slice(0, limit)
    .map((k) => `${k.kernel.padEnd(24)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(1).padStart(9)} ms ${((100 * k.ms) / total).toFixed(1).padStart(5)}%`);
  return [`${'kernel'.padEnd(24)} ${'calls'.padStart(6)} ${'time'.padStart(12)}`, ...lines, `total kernel time ${total.toFixed(1)} ms`].join('\n');
}
