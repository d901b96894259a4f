// Parameter initialisers, all seeded by (recipe seed, parameter name).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { InitKind } from '../../plan/index.js';
import { normalArray, seedFor, uniformArray } from '../random.js';

export type InitRule =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; std: number; mean?: number }
  /** torch's kaiming_uniform_(a=√5) on a [fanOut, fanIn] weight: U(±1/√fanIn) (nn.Linear's default). */
  | { kind: 'kaiming'; fanIn: number }
  | { kind: 'uniform'; bound: number }
  /** Values computed by the module (from the backbone's weights or data), in the parameter's shape. */
  | { kind: 'values'; values: Float32Array };

export function initParam(p: Param, rule: InitRule, seed: number): void {
  const n = p.size;
  const s = seedFor(seed, p.fullName);
  let values: Float32Array;
  switch (rule.kind) {
    case 'zeros': values = new Float32Array(n); break;
    case 'ones': values = new Float32Array(n).fill(1); break;
    case 'constant': values = new Float32Array(n).fill(rule.value); break;
    case 'normal': values = normalArray(n, rule.std, s, rule.mean ?? 0); break;
    case 'kaiming': { const b = 1 / Math.sqrt(rule.fanIn); values = uniformArray(n, -b, b, s); break; }
    case 'uniform': values = uniformArray(n, -rule.bound, rule.bound, s); break;
    case 'values': values = rule.values; break;
  }
  p.set(tf.tensor(values, [...p.shape]));
}

/** Initialises a parameter by a rule (seeded), or does nothing when only shapes are wanted. */
export type InitFn = (p: Param, rule: InitRule) => void;

export function seededInit(seed: number): InitFn {
  return (p, rule) => initParam(p, rule, seed);
}

/** For counting and inspecting: parameters keep their shapes and get no values. */
export const shapesOnly: InitFn = () => {};

/**
 * LoRA's init of an A [r, in] / B [out, r] pair (shared with DoRA): `lora` A Kaiming-uniform and
 * B zero (peft's default), `gaussian` A ~ N(0, 1/r), `bert` A ~ N(0, 0.02), `random` B not zero either.
 */
export function initLowRankPair(init: InitFn, kind: InitKind, A: Param, B: Param, inDim: number, rank: number): void {
  if (kind === 'gaussian') init(A, { kind: 'normal', std: 1 / rank });
  else if (kind === 'bert') init(A, { kind: 'normal', std: 0.02 });
  else init(A, { kind: 'kaiming', fanIn: inDim });
  if (kind === 'random') init(B, { kind: 'kaiming', fanIn: rank });
  else init(B, { kind: 'zeros' });
}

