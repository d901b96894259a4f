// Small dense linear algebra in float64 on the CPU, for initialisations that decompose a weight
// once (LoLDU's LU, CorDA's damped-covariance SVD). Matrices are row-major Float64Arrays with their
// sizes; nothing here runs per training step, and tfjs has no LU or SVD of its own.

export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  const d = new Float64Array(rows * cols);
  if (data) for (let i = 0; i < d.length; i++) d[i] = data[i];
  return { rows, cols, data: d };
}

export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new Error(`matmul: [${a.rows}, ${a.cols}] × [${b.rows}, ${b.cols}]`);
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const v = a.data[i * a.cols + k];
      if (v === 0) continue;
      const bo = k * b.cols;
      const oo = i * b.cols;
      for (let j = 0; j < b.cols; j++) out.data[oo + j] += v * b.data[bo + j];
    }
  }
  return out;
}

/**
 * LU with partial pivoting, as LAPACK's getrf and torch.linalg.lu: A [m, n] = P·L·U with L [m, k]
 * unit lower-triangular, U [k, n] upper-triangular, k = min(m, n). `rowOf[i]` is the row of A that
 * row i of L·U reproduces, so P·L is L with its row i moved to row rowOf[i].
 */
export function lu(a: Mat): { L: Mat; U: Mat; rowOf: Int32Array } {
  const { rows: m, cols: n } = a;
  const k = Math.min(m, n);
  const w = Float64Array.from(a.data);
  const rowOf = Int32Array.from({ length: m }, (_, i) => i);
  for (let j = 0; j < k; j++) {
    // the first row with the largest |pivot| (LAPACK's idamax keeps the first on ties)
    let p = j;
    for (let i = j + 1; i < m; i++) if (Math.abs(w[i * n + j]) > Math.abs(w[p * n + j])) p = i;
    if (p !== j) {
      for (let c = 0; c < n; c++) {
        const t = w[j * n + c];
        w[j * n + c] = w[p * n + c];
        w[p * n + c] = t;
      }
      const t = rowOf[j];
      rowOf[j] = rowOf[p];
      rowOf[p] = t;
    }
    const piv = w[j * n + j];
    if (piv === 0) continue;
    for (let i = j + 1; i < m; i++) {
      const f = (w[i * n + j] /= piv);
      if (f === 0) continue;
      for (let c = j + 1; c < n; c++) w[i * n + c] -= f * w[j * n + c];
    }
  }
  const L = mat(m, k);
  const U = mat(k, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) {
      if (i === j) L.data[i * k + j] = 1;
      else if (i > j) L.data[i * k + j] = w[i * n + j];
    }
  }
  for (let i = 0; i < k; i++) for (let j = i; j < n; j++) U.data[i * n + j] = w[i * n + j];
  return { L, U, rowOf };
}

/** The inverse of a square matrix (Gauss–Jordan with partial pivoting); throws when singular. */
export function inverse(a: Mat): Mat {
  const n = a.rows;
  if (a.cols !== n) throw new Error('inverse: not square');
  const w = Float64Array.from(a.data);
  const inv = mat(n, n);
  for (let i = 0; i < n; i++) inv.data[i * n + i] = 1;
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(w[i * n + j]) > Math.abs(w[p * n + j])) p = i;
    if (w[p * n + j] === 0) throw new Error('inverse: singular matrix');
    if (p !== j) {
      for (let c = 0; c < n; c++) {
        [w[j * n + c], w[p * n + c]] = [w[p * n + c], w[j * n + c]];
        [inv.data[j * n + c], inv.data[p * n + c]] = [inv.data[p * n + c], inv.data[j * n + c]];
      }
    }
    const piv = w[j * n + j];
    for (let c = 0; c < n; c++) {
      w[j * n + c] /= piv;
      inv.data[j * n + c] /= piv;
    }
    for (let i = 0; i < n; i++) {
      if (i === j) continue;
      const f = w[i * n + j];
      if (f === 0) continue;
      for (let c = 0; c < n; c++) {
        w[i * n + c] -= f * w[j * n + c];
        inv.data[i * n + c] -= f * inv.data[j * n + c];
      }
    }
  }
  return inv;
}

/**
 * Thin SVD A [m, n] = U·diag(S)·Vᵀ by one-sided Jacobi rotations (accurate for the small matrices
 * of a projection's init); S descending, U [m, k], V [n, k], k = min(m, n).
 */
export function svd(a: Mat): { U: Mat; S: Float64Array; V: Mat } {
  if (a.rows < a.cols) {
    const t = svd(transpose(a));
    return { U: t.V, S: t.S, V: t.U };
  }
  const { rows: m, cols: n } = a;
  // columns of W = A·V are rotated until orthogonal; V accumulates the rotations
  const W = Float64Array.from(a.data);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = W[i * n + p];
          const y = W[i * n + q];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = W[i * n + p];
          const y = W[i * n + q];
          W[i * n + p] = c * x - s * y;
          W[i * n + q] = s * x + c * y;
        }
        for (let i = 0; i < n; i++) {
          const x = V[i * n + p];
          const y = V[i * n + q];
          V[i * n + p] = c * x - s * y;
          V[i * n + q] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += W[i * n + j] ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const U = mat(m, n);
  const Vs = mat(n, n);
  const S = new Float64Array(n);
  order.forEach((j, c) => {
    S[c] = norms[j];
    for (let i = 0; i < m; i++) U.data[i * n + c] = norms[j] > 0 ? W[i * n + j] / norms[j] : 0;
    for (let i = 0; i < n; i++) Vs.data[i * n + c] = V[i * n + j];
  });
  return { U, S, V: Vs };
}
