// Merging adapters in weight space: every adapter's ΔW at a module (LoRA's s·B·A, LoHa's and
// AdaLoRA's dense updates) merged by a task-vector rule, then re-factorised by a truncated SVD
// into LoRA factors (B = U·S, A = Vᵀ, scale 1) — Python peft's svd, ties_svd, dare_*_svd and
// magnitude_prune_svd, and our task_arithmetic (Σ w_i ΔW_i, exact at the default rank) and pcb
// (PCB-merging over the whole update flattened, as its authors' code does).
// peft 0.13.2 weights each LoRA's ΔW by w_i·s_i although ΔW already holds s_i (so a merge of one
// adapter at weight 1 is that adapter scaled by s); its method names reproduce that unless
// `exactScale`, and task_arithmetic and pcb always weight by w_i alone.
import { truncatedSvd } from '../linalg/index.js';
import { deltaOf, type DenseUpdate, type LoraUpdate } from './adapter-updates.js';
import { dareLinear, dareTies, magnitudePrune, taskArithmetic, ties, type MajoritySignMethod } from './task-vectors.js';
import { pcbMerge } from './pcb.js';
import type { MergedFactors } from './combine-factors.js';

export type DeltaMethod = 'svd' | 'ties_svd' | 'magnitude_prune_svd' | 'dare_linear_svd' | 'dare_ties_svd' | 'task_arithmetic' | 'pcb';

export interface DeltaOptions {
  density: number;
  majoritySign: MajoritySignMethod;
  uniform: () => number;
  exactScale: boolean;
}

/** The weight a ΔW enters a merge with (see above). */
export function deltaWeight(method: DeltaMethod, u: LoraUpdate | DenseUpdate, w: number, exactScale: boolean): number {
  const peftRule = method !== 'task_arithmetic' && method !== 'pcb' && !exactScale && u.kind === 'lora';
  return peftRule ? w * u.scale : w;
}

/** The merged ΔW [out, in] of one module (every method but pcb, which merges all modules at once). */
export function mergeDeltas(method: Exclude<DeltaMethod, 'pcb'>, updates: (LoraUpdate | DenseUpdate)[], weights: number[], o: DeltaOptions): Float32Array {
  const deltas = updates.map(deltaOf);
  const w = updates.map((u, i) => deltaWeight(method, u, weights[i], o.exactScale));
  switch (method) {
    case 'svd':
    case 'task_arithmetic': return taskArithmetic(deltas, w);
    case 'ties_svd': return ties(deltas, w, o.density, o.majoritySign);
    case 'dare_linear_svd': return dareLinear(deltas, w, o.density, o.uniform);
    case 'dare_ties_svd': return dareTies(deltas, w, o.density, o.uniform, o.majoritySign);
    case 'magnitude_prune_svd': return magnitudePrune(deltas, w, o.density);
  }
}

/**
 * PCB over every module at once: each adapter's task vector is its ΔW of every module (zeros where
 * it has none), concatenated in `paths` order. Returns the merged ΔW per module.
 */
export function mergePcb(paths: string[], adapters: Map<string, LoraUpdate | DenseUpdate>[], weights: number[], density: number): Map<string, Float32Array> {
  const sizes = paths.map((p) => {
    const u = adapters.map((a) => a.get(p)).find((x) => x)!;
    return u.outDim * u.inDim;
  });
  const d = sizes.reduce((a, b) => a + b, 0);
  const taus = adapters.map((a) => {
    const t = new Float32Array(d);
    let at = 0;
    paths.forEach((p, j) => {
      const u = a.get(p);
      if (u) t.set(deltaOf(u), at);
      at += sizes[j];
    });
    return t;
  });
  const merged = pcbMerge(taus, weights, density, 'A').merged;
  const out = new Map<string, Float32Array>();
  let at = 0;
  paths.forEach((p, j) => {
    out.set(p, merged.slice(at, at + sizes[j]));
    at += sizes[j];
  });
  return out;
}

/** LoRA factors of a ΔW [out, in] at rank k: B = U_k·S_k, A = V_kᵀ (Python peft's choice). */
export function refactor(delta: Float32Array, outDim: number, inDim: number, k: number): MergedFactors {
  const s = truncatedSvd(delta, outDim, inDim, k);
  const B = new Float32Array(outDim * s.k);
  for (let i = 0; i < outDim; i++) for (let c = 0; c < s.k; c++) B[i * s.k + c] = s.U[i * s.k + c] * s.S[c];
  return { A: Float32Array.from(s.Vt), B, r: s.k };
}
