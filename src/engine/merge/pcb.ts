// Parameter Competition Balancing (PCB-merging; Du et al., NeurIPS 2024), as the authors' code
// computes it (see test/fixtures/reference/pcb_merging/README.md). Task vectors are rows of one
// [n, d] matrix — in their runs and here, d is the whole flattened update, so every per-row
// statistic (sort, min, max) spans the whole adapter. `ratio` is a keep fraction (like a density).
//
//   a      = clamp(|τ|, c, c)                      (row-wise quantile clamp)
//   τ'     = sign(τ)·a
//   intra  = exp(n·norm(a)²)                       (norm: row-wise min-max)
//   inter  = A:  tanh(τ_i ⊙ Σ_j τ_j)
//            ES: Σ_j tanh(ν_i ⊙ ν_j),  ν = sign(τ)·norm(a)
//            V:  tanh(τ_i ⊙ Σ_j ν_j)
//   scale  = norm(clamp(intra ⊙ inter, 1 − ratio, 0))
//   merged = Σ_i λ_i τ'_i ⊙ scale_i / max(Σ_i scale_i, 1e-12)
// A is pcb-merging.py (c = 0.0001, the primary variant); ES is vision_source_code/pcb_ES.py and
// V vision_source_code/pcb.py (c = 0.01).

export type PcbVariant = 'A' | 'ES' | 'V';

export interface PcbResult {
  merged: Float32Array;
  /** Per task (length n·d each row): the intermediates, for tests and diagnostics. */
  clamped: Float32Array[];
  intra: Float32Array[];
  inter: Float32Array[];
  scale: Float32Array[];
}

/** `(x − min) / (max − min)` over the row (no epsilon, as their code). */
function minmax(x: Float64Array): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return x.map((v) => (v - lo) / (hi - lo));
}

/** Their `clamp(x, min_ratio, max_ratio)` on one row: clamp to [s[⌊d·min⌋], s[⌊d·(1 − max) − 1⌋]] of the sorted row. */
function quantileClamp(x: Float64Array, minRatio: number, maxRatio: number): Float64Array {
  const d = x.length;
  const s = Float64Array.from(x).sort();
  const lo = s[Math.trunc(d * minRatio)];
  const hi = s[Math.trunc(d * (1 - maxRatio) - 1)];
  return x.map((v) => Math.min(Math.max(v, lo), hi));
}

export function pcbMerge(tasks: readonly Float32Array[], weights: readonly number[], ratio: number, variant: PcbVariant = 'A'): PcbResult {
  const n = tasks.length;
  if (n === 0 || weights.length !== n) throw new RangeError(`${n} task vectors but ${weights.length} weights`);
  const d = tasks[0].length;
  if (tasks.some((t) => t.length !== d)) throw new RangeError('task vectors differ in size');
  const c = variant === 'A' ? 0.0001 : 0.01;
  const tau = tasks.map((t) => Float64Array.from(t));
  const abs = tau.map((t) => quantileClamp(t.map(Math.abs), c, c));
  const clamped = tau.map((t, i) => t.map((v, j) => Math.sign(v) * abs[i][j]));
  const normed = abs.map(minmax);
  const intra = normed.map((r) => r.map((v) => Math.exp(n * v * v)));
  let inter: Float64Array[];
  if (variant === 'A') {
    const sum = new Float64Array(d);
    for (const t of tau) for (let j = 0; j < d; j++) sum[j] += t[j];
    inter = tau.map((t) => t.map((v, j) => Math.tanh(v * sum[j])));
  } else {
    const nu = tau.map((t, i) => t.map((v, j) => Math.sign(v) * normed[i][j]));
    if (variant === 'ES') {
      inter = nu.map((ni) => {
        const out = new Float64Array(d);
        for (const nj of nu) for (let j = 0; j < d; j++) out[j] += Math.tanh(ni[j] * nj[j]);
        return out;
      });
    } else {
      const sum = new Float64Array(d);
      for (const v of nu) for (let j = 0; j < d; j++) sum[j] += v[j];
      inter = tau.map((t) => t.map((v, j) => Math.tanh(v * sum[j])));
    }
  }
  const scale = intra.map((r, i) => minmax(quantileClamp(r.map((v, j) => v * inter[i][j]), 1 - ratio, 0)));
  const merged = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      num += weights[i] * clamped[i][j] * scale[i][j];
      den += scale[i][j];
    }
    merged[j] = num / Math.max(den, 1e-12);
  }
  const f32 = (rows: Float64Array[]) => rows.map((r) => Float32Array.from(r));
  return { merged, clamped: f32(clamped), intra: f32(intra), inter: f32(inter), scale: f32(scale) };
}
