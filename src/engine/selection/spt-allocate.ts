// SPT's allocation (He et al. 2023; test/fixtures/reference/spt/README.md, engine.py:161-300 of
// the authors' code): the k most sensitive entries over all ranked tensors (global top-k); then
// per tensor, with c of its entries among them, a matrix whose c reaches its low-rank cost / α
// gets a low-rank update (cost in·r + r·out) and otherwise trains its c entries; a vector
// (norm, bias) whose c reaches len / β trains whole, otherwise its c entries. The budget a
// selection names is met by trying several k and keeping the one whose total cost is closest.
import { smallestK } from './choose.js';

export interface SptTensor {
  name: string;
  /** [out, in] for matrices (the nn.Linear layout), [len] for vectors. */
  shape: number[];
  kind: 'matrix' | 'vector';
  /** Sensitivity of every entry (row-major). */
  scores: Float32Array;
}

export interface SptOptions {
  /** Rank r of the low-rank update. */
  rank: number;
  /** α: a matrix goes low-rank when c ≥ (in·r + r·out) / α. */
  factor: number;
  /** β: a vector trains whole when c ≥ len / β. */
  beta: number;
}

export interface SptAllocation {
  k: number;
  /** Per tensor: the positions among the top k (ascending). */
  selected: Map<string, Int32Array>;
  /** Matrices given a low-rank update. */
  structured: string[];
  /** Vectors trained whole. */
  vectors: string[];
  /** Tensors whose selected entries train one by one. */
  unstructured: Map<string, Int32Array>;
  unstructuredCount: number;
  /** Parameters of the low-rank updates and whole vectors. */
  structuredParams: number;
}

/** The low-rank update's parameter count for a matrix [out, in] (engine.py get_structured_param_num, LoRA). */
export function loraCost(shape: number[], rank: number): number {
  const [out, inDim] = shape;
  return inDim * rank + rank * out;
}

/** The allocation for the global top-k entries. */
export function sptAllocate(tensors: readonly SptTensor[], k: number, o: SptOptions): SptAllocation {
  const total = tensors.reduce((n, t) => n + t.scores.length, 0);
  const keys = new Float32Array(total);
  let at = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.scores.length; i++) keys[at + i] = -t.scores[i];
    at += t.scores.length;
  }
  const top = smallestK(keys, Math.min(k, total)).indices;
  const selected = new Map<string, Int32Array>();
  const structured: string[] = [];
  const vectors: string[] = [];
  const unstructured = new Map<string, Int32Array>();
  let unstructuredCount = 0;
  let structuredParams = 0;
  let start = 0;
  let j = 0;
  for (const t of tensors) {
    const end = start + t.scores.length;
    const mine: number[] = [];
    while (j < top.length && top[j] < end) mine.push(top[j++] - start);
    const sel = Int32Array.from(mine);
    selected.set(t.name, sel);
    const c = sel.length;
    if (t.kind === 'vector' && t.shape.length === 1 && c >= t.scores.length / o.beta) {
      vectors.push(t.name);
      structuredParams += t.scores.length;
    } else if (t.kind === 'matrix' && c >= loraCost(t.shape, o.rank) / o.factor) {
      structured.push(t.name);
      structuredParams += loraCost(t.shape, o.rank);
    } else if (c > 0) {
      unstructured.set(t.name, sel);
      unstructuredCount += c;
    }
    start = end;
  }
  return { k, selected, structured, vectors, unstructured, unstructuredCount, structuredParams };
}

/** The allocation whose cost (entries + low-rank and vector parameters) is closest to `budget` (ties: the larger k). */
export function sptForBudget(tensors: readonly SptTensor[], budget: number, o: SptOptions, steps = 64): SptAllocation {
  const total = tensors.reduce((n, t) => n + t.scores.length, 0);
  let best: SptAllocation | null = null;
  let bestGap = Infinity;
  const ks = new Set<number>();
  for (let i = 1; i <= steps; i++) ks.add(Math.min(total, Math.max(1, Math.ceil((i * 2 * budget) / steps))));
  for (const k of [...ks].sort((a, b) => a - b)) {
    const a = sptAllocate(tensors, k, o);
    const gap = Math.abs(a.unstructuredCount + a.structuredParams - budget);
    if (gap <= bestGap) {
      best = a;
      bestGap = gap;
    }
  }
  return best ?? sptAllocate(tensors, 0, o);
}
