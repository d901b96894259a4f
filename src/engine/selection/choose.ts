// Which entries a budget buys, for the criteria that rank entries by a key: magnitude (|w|,
// smallest first) and random (a seeded uniform key per entry). The budget is spent per weight
// (scope: matrix) or over all chosen weights together (scope: global); ties go to the lower index.
import type { SelectBudget, SelectScope } from '../../plan/index.js';
import { seedFor, uniformStream } from '../random.js';

/** Entries a budget allows out of n candidates (a fraction rounds to the nearest, at least 1). */
export function budgetCount(budget: SelectBudget, n: number): number {
  if ('count' in budget) return Math.min(n, budget.count);
  return n === 0 ? 0 : Math.min(n, Math.max(1, Math.round(budget.fraction * n)));
}

/** The k smallest keys' positions, ascending (ties to the lower position), and the largest key taken. */
export function smallestK(keys: Float32Array, k: number): { indices: Int32Array; bound: number } {
  if (k <= 0) return { indices: new Int32Array(0), bound: -Infinity };
  if (k >= keys.length) return { indices: Int32Array.from(keys.keys()), bound: Infinity };
  const sorted = Float32Array.from(keys).sort();
  const bound = sorted[k - 1];
  let below = 0;
  for (let i = 0; i < k; i++) if (sorted[i] < bound) below++;
  let ties = k - below;
  const out = new Int32Array(k);
  let j = 0;
  for (let i = 0; i < keys.length && j < k; i++) {
    if (keys[i] < bound) out[j++] = i;
    else if (keys[i] === bound && ties > 0) {
      out[j++] = i;
      ties--;
    }
  }
  return { indices: out, bound };
}

/** A key per entry of each named tensor → the chosen positions per tensor, spending the budget by scope. */
export function spend(keys: Map<string, Float32Array>, budget: SelectBudget, scope: SelectScope): Map<string, { indices: Int32Array; bound: number }> {
  const out = new Map<string, { indices: Int32Array; bound: number }>();
  if (scope === 'matrix') {
    for (const [name, k] of keys) out.set(name, smallestK(k, budgetCount(budget, k.length)));
    return out;
  }
  const total = [...keys.values()].reduce((n, k) => n + k.length, 0);
  const all = new Float32Array(total);
  const offsets = new Map<string, number>();
  let at = 0;
  for (const [name, k] of keys) {
    all.set(k, at);
    offsets.set(name, at);
    at += k.length;
  }
  const { indices, bound } = smallestK(all, budgetCount(budget, total));
  for (const [name, k] of keys) {
    const start = offsets.get(name)!;
    const mine = indices.filter((i) => i >= start && i < start + k.length).map((i) => i - start);
    out.set(name, { indices: Int32Array.from(mine), bound });
  }
  return out;
}

/** |w| of every entry (magnitude's key). */
export function magnitudeKeys(values: Float32Array): Float32Array {
  return Float32Array.from(values, Math.abs);
}

/** A seeded uniform key per entry (random's key), from (recipe seed, tensor name). */
export function randomKeys(n: number, seed: number, name: string): Float32Array {
  const next = uniformStream(seedFor(seed, `select:${name}`));
  return Float32Array.from({ length: n }, () => next());
}

/** Positions with |w| < threshold (SaRA's own rule), ascending. */
export function belowThreshold(values: Float32Array, threshold: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) < threshold) out.push(i);
  return Int32Array.from(out);
}
