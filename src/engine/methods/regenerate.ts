// Frozen tensors a module regenerates from a seed stored in its plan (VeRA's shared A/B, NOLA's
// bases, MoS's shard draws, a subspace's projection) instead of storing them, and the module-wide
// holders of such tensors and of parameters shared across sites (VB-LoRA's bank, MoS's pools).
// The same (seed, name) gives the same values on every machine: the adapter file keeps the seed.
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import { seedFor, uniformArray, normalArray, uniformStream } from '../random.js';
import { PeftError } from '../../errors.js';

/** The most numbers a module may regenerate and hold (floats): 256 MiB. */
export const MAX_REGENERATED = 2 ** 26;

export type Draw = { uniform: number } | { normal: number };

/** `n` values of `draw` from (seed, name): U(−b, b) or N(0, σ²). */
export function regenerate(seed: number, name: string, n: number, draw: Draw): Float32Array {
  const s = seedFor(seed, name);
  return 'uniform' in draw ? uniformArray(n, -draw.uniform, draw.uniform, s) : normalArray(n, draw.normal, s);
}

/** The first `k` entries of a seeded random permutation of 0…n−1 (Fisher–Yates). */
export function permutationPrefix(seed: number, name: string, n: number, k: number): Int32Array {
  const next = uniformStream(seedFor(seed, name));
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < Math.min(k, n - 1); i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p.slice(0, k);
}

/** Refuses to regenerate more than MAX_REGENERATED numbers (a hint says what to lower). */
export function checkRegenerated(total: number, where: string, hint: string): void {
  if (total > MAX_REGENERATED) {
    throw new PeftError('RECIPE', `this would hold ${total.toLocaleString('en-US')} regenerated random numbers (more than ${MAX_REGENERATED.toLocaleString('en-US')})`, { where, hint });
  }
}

/**
 * Tensors one module shares across its sites, named `<module>.<group>.<name>`: trained ones
 * (parameters: a vector bank, shard pools) and frozen ones (buffers: a shared random basis).
 * A buffer tagged `stored` is written to the adapter file (save_projection).
 */
export class SharedTensors extends Module {
  trained(name: string, shape: readonly number[]): Param {
    return this.param(name, shape, ['adapter']);
  }

  frozen(name: string, shape: readonly number[], stored = false): Param {
    return this.buffer(name, shape, stored ? ['adapter', 'stored'] : ['adapter']);
  }
}

/** Sets a frozen tensor's values (float32 or int32). */
export function setFrozen(p: Param, values: Float32Array | Int32Array): void {
  p.set(values instanceof Int32Array ? tf.tensor(values, [...p.shape], 'int32') : tf.tensor(values, [...p.shape]));
}
