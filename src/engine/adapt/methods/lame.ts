// LAME (Boudiaf et al. 2022, Parameter-free Online Test-time Adaptation): the model is left as it
// is; its predictions on a batch are adjusted by Laplacian-regularised maximum likelihood,
//   min_Y  Σ_i KL(y_i ‖ p_i) − λ Σ_ij w_ij y_iᵀ y_j,
// solved by the concave-convex procedure of the authors' code: Y ← softmax(log p + λ·W·Y), from
// Y = p, until the energy Σ (−log p)·Y − λ·(W·Y)·Y + Y·log Y changes by ≤ 1e-8 of itself (at
// most 100 steps). W is the kNN affinity of the batch's L2-normalised features (w_ij = 1 when j
// is among i's k nearest others; k = 5, λ = 1, the authors' defaults). Online only: the method
// adapts each batch's outputs.
import { forwardBatch } from '../forward.js';
import type { TtaMethod } from '../types.js';
import { PeftError } from '../../../errors.js';

/** W [N·N]: 1 where j is one of i's k nearest other rows (Euclidean). */
export function knnAffinity(feats: Float32Array, N: number, D: number, k: number): Float32Array {
  const W = new Float32Array(N * N);
  const take = Math.min(k, N - 1);
  for (let i = 0; i < N; i++) {
    const d: [number, number][] = [];
    for (let j = 0; j < N; j++) {
      if (j === i) continue;
      let s = 0;
      for (let t = 0; t < D; t++) {
        const v = feats[i * D + t] - feats[j * D + t];
        s += v * v;
      }
      d.push([s, j]);
    }
    d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let n = 0; n < take; n++) W[i * N + d[n][1]] = 1;
  }
  return W;
}

/** Rows scaled to unit L2 norm. */
export function l2Rows(x: Float32Array, N: number, D: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let t = 0; t < D; t++) s += x[i * D + t] ** 2;
    const n = Math.max(Math.sqrt(s), 1e-12);
    for (let t = 0; t < D; t++) out[i * D + t] = x[i * D + t] / n;
  }
  return out;
}

/** The authors' laplacian_optimization: Y [N·K] from the probabilities and the affinity. */
export function laplacianOptimization(probs: Float32Array, W: Float32Array, N: number, K: number, lambda = 1, maxSteps = 100): { Y: Float32Array; steps: number } {
  const unary = Float64Array.from(probs, (p) => -Math.log(p + 1e-10));
  let Y = new Float64Array(N * K);
  const softmaxInto = (logits: Float64Array, out: Float64Array) => {
    for (let i = 0; i < N; i++) {
      let m = -Infinity;
      for (let c = 0; c < K; c++) m = Math.max(m, logits[i * K + c]);
      let z = 0;
      for (let c = 0; c < K; c++) z += (out[i * K + c] = Math.exp(logits[i * K + c] - m));
      for (let c = 0; c < K; c++) out[i * K + c] /= z;
    }
  };
  softmaxInto(Float64Array.from(unary, (u) => -u), Y);
  let oldE = Infinity;
  let steps = 0;
  const pairwise = new Float64Array(N * K);
  const exponent = new Float64Array(N * K);
  for (let s = 0; s < maxSteps; s++) {
    steps = s + 1;
    pairwise.fill(0);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const w = W[i * N + j];
        if (w === 0) continue;
        for (let c = 0; c < K; c++) pairwise[i * K + c] += lambda * w * Y[j * K + c];
      }
    }
    for (let t = 0; t < N * K; t++) exponent[t] = -unary[t] + pairwise[t];
    const next = new Float64Array(N * K);
    softmaxInto(exponent, next);
    Y = next;
    let E = 0;
    for (let t = 0; t < N * K; t++) E += unary[t] * Y[t] - pairwise[t] * Y[t] + Y[t] * Math.log(Math.max(Y[t], 1e-20));
    if (s > 1 && Math.abs(E - oldE) <= 1e-8 * Math.abs(oldE)) break;
    oldE = E;
  }
  return { Y: Float32Array.from(Y), steps };
}

export const lameMethod: TtaMethod = {
  name: 'lame',
  title: 'LAME: Laplacian-adjusted maximum likelihood on the outputs (parameter-free)',
  paper: 'Boudiaf et al. 2022, Parameter-free Online Test-time Adaptation',
  modes: ['online'],
  onlineOnly: 'LAME adjusts the outputs of each test batch (the paper\'s setting is online)',
  async start(ctx) {
    const k = ctx.settings.knn ?? 5;
    return {
      predict(b) {
        const out = forwardBatch(ctx, b);
        if (!out.features) {
          throw new PeftError('RECIPE', `lame needs the features the classifier reads, which the ${ctx.model.family} family does not expose`, { hint: 'use it on image or audio classifiers' });
        }
        const N = b.size;
        const K = ctx.classes;
        const probs = new Float32Array(N * K);
        for (let i = 0; i < N; i++) {
          let m = -Infinity;
          for (let c = 0; c < K; c++) m = Math.max(m, out.logits[i * K + c]);
          let z = 0;
          for (let c = 0; c < K; c++) z += (probs[i * K + c] = Math.exp(out.logits[i * K + c] - m));
          for (let c = 0; c < K; c++) probs[i * K + c] /= z;
        }
        const W = knnAffinity(l2Rows(out.features, N, out.dim), N, out.dim, k);
        return laplacianOptimization(probs, W, N, K).Y;
      },
      restore: () => {},
    };
  },
};
