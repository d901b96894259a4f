// The tensor operations of task-vector merging, as Python peft 0.13.2's `utils/merge_utils.py`
// computes them (task arithmetic, Ilharco et al. 2023; TIES, Yadav et al. 2023; DARE, Yu et al.
// 2024): every task tensor is a flat Float32Array of the same length, `weights` one per task.
// Density is the fraction of entries kept; randomness (DARE) comes from the caller's stream.

export type MajoritySignMethod = 'total' | 'frequency';

function check(tasks: readonly Float32Array[], weights: readonly number[]): number {
  if (tasks.length === 0) throw new RangeError('no task tensors');
  if (tasks.length !== weights.length) throw new RangeError(`${tasks.length} task tensors but ${weights.length} weights`);
  const n = tasks[0].length;
  if (tasks.some((t) => t.length !== n)) throw new RangeError('task tensors differ in size');
  return n;
}

/** Σ_i w_i·t_i. */
export function taskArithmetic(tasks: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const n = check(tasks, weights);
  const out = new Float32Array(n);
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    const w = weights[i];
    for (let j = 0; j < n; j++) out[j] += Math.fround(t[j] * w);
  }
  return out;
}

/**
 * Keeps the k = ⌊density·n⌋ entries of largest magnitude (torch.topk; equal magnitudes: the lower
 * index first), zeroes the rest. density ≥ 1 returns the tensor unchanged, as peft does.
 */
export function pruneMagnitude(t: Float32Array, density: number): Float32Array {
  if (density >= 1) return t;
  const k = Math.trunc(density * t.length);
  const order = Array.from({ length: t.length }, (_, i) => i).sort((a, b) => Math.abs(t[b]) - Math.abs(t[a]) || a - b);
  const out = new Float32Array(t.length);
  // t * mask keeps the sign of zero (-x · 0 = -0), as torch's product does
  for (let j = 0; j < t.length; j++) out[j] = t[j] * 0;
  for (let j = 0; j < k; j++) out[order[j]] = t[order[j]];
  return out;
}

/** DARE's drop: each entry kept with probability `density` (a Bernoulli draw), kept ones ÷ density when `rescale`. */
export function pruneRandom(t: Float32Array, density: number, rescale: boolean, uniform: () => number): Float32Array {
  if (density >= 1) return t;
  const out = new Float32Array(t.length);
  for (let j = 0; j < t.length; j++) {
    const keep = uniform() < density ? 1 : 0;
    out[j] = rescale ? Math.fround(t[j] * keep) / density : t[j] * keep;
  }
  return out;
}

/**
 * TIES' elected sign: per entry, the sign of Σ_i t_i ("total", the summed mass) or of Σ_i sign(t_i)
 * ("frequency"), with 0 counted as +; returns for each task whether its entry has that sign.
 */
export function majoritySignMask(tasks: readonly Float32Array[], method: MajoritySignMethod): Uint8Array[] {
  const n = tasks[0].length;
  const vote = new Float64Array(n);
  for (const t of tasks) for (let j = 0; j < n; j++) vote[j] += method === 'total' ? t[j] : Math.sign(t[j]);
  return tasks.map((t) => {
    const m = new Uint8Array(n);
    for (let j = 0; j < n; j++) m[j] = Math.sign(t[j]) === (vote[j] >= 0 ? 1 : -1) ? 1 : 0;
    return m;
  });
}

/** Mean of the entries that agree with the elected sign (entries where none agree: 0). */
export function disjointMerge(weighted: readonly Float32Array[], masks: readonly Uint8Array[]): Float32Array {
  const n = weighted[0].length;
  const sum = new Float32Array(n);
  const count = new Float32Array(n);
  for (let i = 0; i < weighted.length; i++) {
    for (let j = 0; j < n; j++) {
      if (masks[i][j]) {
        sum[j] += weighted[i][j];
        count[j] += 1;
      }
    }
  }
  for (let j = 0; j < n; j++) sum[j] = Math.fround(sum[j] / Math.max(count[j], 1));
  return sum;
}

function weightedBy(tasks: readonly Float32Array[], weights: readonly number[]): Float32Array[] {
  return tasks.map((t, i) => t.map((v) => v * weights[i]));
}

/** Magnitude-pruned task arithmetic: Σ_i w_i·prune(t_i). */
export function magnitudePrune(tasks: readonly Float32Array[], weights: readonly number[], density: number): Float32Array {
  check(tasks, weights);
  return taskArithmetic(tasks.map((t) => pruneMagnitude(t, density)), weights);
}

/** TIES: trim (magnitude), elect signs on the trimmed tensors, disjoint mean of the weighted ones. */
export function ties(tasks: readonly Float32Array[], weights: readonly number[], density: number, method: MajoritySignMethod = 'total'): Float32Array {
  check(tasks, weights);
  const pruned = tasks.map((t) => pruneMagnitude(t, density));
  return disjointMerge(weightedBy(pruned, weights), majoritySignMask(pruned, method));
}

/** DARE with task arithmetic: random drop, rescale by 1/density, weighted sum. */
export function dareLinear(tasks: readonly Float32Array[], weights: readonly number[], density: number, uniform: () => number): Float32Array {
  check(tasks, weights);
  return taskArithmetic(tasks.map((t) => pruneRandom(t, density, true, uniform)), weights);
}

/** DARE with TIES: random drop and rescale, then TIES' sign election and disjoint mean. */
export function dareTies(tasks: readonly Float32Array[], weights: readonly number[], density: number, uniform: () => number, method: MajoritySignMethod = 'total'): Float32Array {
  check(tasks, weights);
  const pruned = tasks.map((t) => pruneRandom(t, density, true, uniform));
  return disjointMerge(weightedBy(pruned, weights), majoritySignMask(pruned, method));
}
