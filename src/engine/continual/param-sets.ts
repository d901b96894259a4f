// Sets of parameter values kept beside the live ones: LAE's offline modules, ConPET's module of
// each task and its selector, MOS's adapter of each stage. A set is a copy (name → tensor); it
// can be swapped in for a computation and swapped out again, blended, saved and read back.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import { openSafetensors, writeSafetensors } from '../io/safetensors.js';

export type ParamSet = Map<string, tf.Tensor>;

/** A copy of the parameters' current values. */
export function snapshot(params: ReadonlyMap<string, Param>): ParamSet {
  return new Map([...params].map(([n, p]) => [n, tf.keep(tf.clone(p.value))]));
}

/** Sets the parameters to the set's values (the set is kept). */
export function restore(params: ReadonlyMap<string, Param>, set: ParamSet): void {
  for (const [n, t] of set) {
    const p = params.get(n);
    if (p) p.set(tf.clone(t));
  }
}

/** Runs `fn` with the set's values in place, then puts the live values back. */
export function withParams<T>(params: ReadonlyMap<string, Param>, set: ParamSet, fn: () => T): T {
  const live = snapshot(new Map([...params].filter(([n]) => set.has(n))));
  restore(params, set);
  try {
    return fn();
  } finally {
    restore(params, live);
    disposeSet(live);
  }
}

export function disposeSet(set: ParamSet): void {
  for (const t of set.values()) t.dispose();
  set.clear();
}

/** a ← w_a·a + w_b·b for every entry (in place in `a`). */
export function blend(a: ParamSet, wa: number, b: ParamSet | ReadonlyMap<string, Param>, wb: number): void {
  for (const [n, t] of a) {
    const other = b.get(n);
    if (!other) continue;
    const v = other instanceof tf.Tensor ? other : other.value;
    const next = tf.keep(tf.tidy(() => tf.add(tf.mul(t, wa), tf.mul(v, wb))));
    t.dispose();
    a.set(n, next);
  }
}

/** The entry-wise mean of sets (the same names in each). */
export function meanOf(sets: readonly ParamSet[]): ParamSet {
  const out: ParamSet = new Map();
  for (const n of sets[0]?.keys() ?? []) out.set(n, tf.keep(tf.tidy(() => tf.div(tf.addN(sets.map((s) => s.get(n)!)), sets.length))));
  return out;
}

/** Named sets in one safetensors file: `<set>/<parameter>`. */
export function writeSets(file: string, sets: Record<string, ParamSet>): void {
  const tensors = Object.entries(sets).flatMap(([set, m]) => [...m].map(([n, t]) => ({ name: `${set}/${n}`, shape: [...t.shape], data: t.dataSync() as Float32Array })));
  writeSafetensors(file, tensors);
}

export function readSets(file: string): Record<string, ParamSet> {
  const f = openSafetensors(file);
  const out: Record<string, ParamSet> = {};
  for (const name of f.names()) {
    const cut = name.indexOf('/');
    const set = name.slice(0, cut);
    (out[set] ??= new Map()).set(name.slice(cut + 1), tf.keep(tf.tensor(f.read(name), f.info(name).shape)));
  }
  return out;
}
