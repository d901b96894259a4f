// Merging LoRA adapters factor by factor, as Python peft 0.13.2's add_weighted_adapter does for
// linear, ties, dare_linear, dare_ties and magnitude_prune: at each module the A matrices are
// merged with weights √(w_i·s_i) and so are the B matrices (so ΔW = (Σ√(w s)B)(Σ√(w s)A), cross
// terms included — peft's rule, not Σ w·ΔW), and `cat`, which stacks the factors exactly (ΔW =
// Σ w_i·s_i·B_i·A_i at rank Σ r_i). The result's scale is 1 (lora_alpha = r).
import type { LoraUpdate } from './adapter-updates.js';
import { dareLinear, dareTies, magnitudePrune, taskArithmetic, ties, type MajoritySignMethod } from './task-vectors.js';

export type FactorMethod = 'linear' | 'ties' | 'dare_linear' | 'dare_ties' | 'magnitude_prune';

export interface MergedFactors {
  A: Float32Array;
  B: Float32Array;
  r: number;
}

export interface FactorOptions {
  density: number;
  majoritySign: MajoritySignMethod;
  uniform: () => number;
}

/** √(w·s) with w's sign kept (peft 0.13.2 takes math.sqrt and so fails on negative weights). */
export function factorWeight(w: number, scale: number): number {
  const ws = w * scale;
  return Math.sign(ws) * Math.sqrt(Math.abs(ws));
}

export function mergeFactors(method: FactorMethod, loras: LoraUpdate[], weights: number[], o: FactorOptions): MergedFactors {
  const fw = loras.map((u, i) => factorWeight(weights[i], u.scale));
  const op = (tensors: Float32Array[]): Float32Array => {
    switch (method) {
      case 'linear': return taskArithmetic(tensors, fw);
      case 'ties': return ties(tensors, fw, o.density, o.majoritySign);
      case 'dare_linear': return dareLinear(tensors, fw, o.density, o.uniform);
      case 'dare_ties': return dareTies(tensors, fw, o.density, o.uniform, o.majoritySign);
      case 'magnitude_prune': return magnitudePrune(tensors, fw, o.density);
    }
  };
  return { A: op(loras.map((u) => u.A)), B: op(loras.map((u) => u.B)), r: loras[0].r };
}

/** cat: A rows w_i·s_i·A_i stacked, B columns B_i side by side. */
export function concatFactors(loras: LoraUpdate[], weights: number[]): MergedFactors {
  const r = loras.reduce((n, u) => n + u.r, 0);
  const { inDim, outDim } = loras[0];
  const A = new Float32Array(r * inDim);
  const B = new Float32Array(outDim * r);
  let at = 0;
  loras.forEach((u, i) => {
    const k = weights[i] * u.scale;
    for (let j = 0; j < u.r * inDim; j++) A[at * inDim + j] = u.A[j] * k;
    for (let o = 0; o < outDim; o++) for (let c = 0; c < u.r; c++) B[o * r + at + c] = u.B[o * u.r + c];
    at += u.r;
  });
  return { A, B, r };
}
