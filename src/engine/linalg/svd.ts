// Truncated singular value decomposition of a dense m×n matrix, in float64: the eigenvectors of
// the Gram matrix of its smaller side give one set of singular vectors, the matrix maps them to
// the other. Accurate for the leading singular triplets (what a rank-k re-factorisation keeps);
// the smallest singular values of an ill-conditioned matrix lose relative precision.
import { symmetricEigen } from './eigen.js';

export interface TruncatedSvd {
  /** Left singular vectors [m, k] row-major. */
  U: Float64Array;
  /** Singular values, descending [k]. */
  S: Float64Array;
  /** Right singular vectors transposed [k, n] row-major. */
  Vt: Float64Array;
  k: number;
}

/** The k leading singular triplets of the row-major m×n matrix `a` (k ≤ min(m, n)). */
export function truncatedSvd(a: ArrayLike<number>, m: number, n: number, k: number): TruncatedSvd {
  k = Math.max(0, Math.min(k, m, n));
  const U = new Float64Array(m * k);
  const S = new Float64Array(k);
  const Vt = new Float64Array(k * n);
  if (k === 0) return { U, S, Vt, k };
  const wide = n > m;
  // Gram of the smaller side: AᵀA (n×n) when tall, AAᵀ (m×m) when wide
  const g = wide ? m : n;
  const gram = new Float64Array(g * g);
  if (!wide) {
    for (let r = 0; r < m; r++) {
      const row = r * n;
      for (let i = 0; i < n; i++) {
        const ai = a[row + i];
        if (ai === 0) continue;
        for (let j = i; j < n; j++) gram[i * n + j] += ai * a[row + j];
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++) {
        let s = 0;
        for (let c = 0; c < n; c++) s += a[i * n + c] * a[j * n + c];
        gram[i * m + j] = s;
      }
    }
  }
  for (let i = 0; i < g; i++) for (let j = 0; j < i; j++) gram[i * g + j] = gram[j * g + i];
  const eig = symmetricEigen(gram, g);
  for (let c = 0; c < k; c++) {
    const sigma = Math.sqrt(Math.max(0, eig.values[c]));
    S[c] = sigma;
    if (!wide) {
      // V[:, c] is the eigenvector; U[:, c] = A V[:, c] / σ
      for (let j = 0; j < n; j++) Vt[c * n + j] = eig.vectors[j * g + c];
      for (let r = 0; r < m; r++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += a[r * n + j] * Vt[c * n + j];
        U[r * k + c] = sigma > 0 ? s / sigma : 0;
      }
    } else {
      for (let r = 0; r < m; r++) U[r * k + c] = eig.vectors[r * g + c];
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += a[r * n + j] * U[r * k + c];
        Vt[c * n + j] = sigma > 0 ? s / sigma : 0;
      }
    }
  }
  return { U, S, Vt, k };
}
