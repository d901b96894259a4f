// The float64 eigen-decomposition, truncated SVD and seeded orthonormal bases behind adapter
// merges and orthogonal adaptation: defining identities on seeded matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orthonormalColumns, symmetricEigen, truncatedSvd } from '../../../src/engine/linalg/index.js';
import { normalArray } from '../../../src/engine/random.js';

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

test('symmetric eigen: A V = V diag(λ), VᵀV = I, eigenvalues descending', () => {
  const n = 37;
  const g = normalArray(n * n, 1, 5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
  const { values, vectors } = symmetricEigen(a, n);
  for (let c = 1; c < n; c++) assert.ok(values[c] <= values[c - 1]);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < n; c++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[k * n + c];
      worst = Math.max(worst, Math.abs(av - values[c] * vectors[i * n + c]));
      let dot = 0;
      for (let k = 0; k < n; k++) dot += vectors[k * n + i] * vectors[k * n + c];
      worst = Math.max(worst, Math.abs(dot - (i === c ? 1 : 0)));
    }
  }
  assert.ok(worst < 1e-10, `residual ${worst}`);
});

test('truncated SVD: full rank reconstructs the matrix, rank k equals the best rank-k error (tall and wide)', () => {
  for (const [m, n] of [[12, 7], [7, 12]]) {
    const a = Float64Array.from(normalArray(m * n, 1, m * 100 + n));
    const full = truncatedSvd(a, m, n, Math.min(m, n));
    const rec = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let c = 0; c < full.k; c++) rec[i * n + j] += full.U[i * full.k + c] * full.S[c] * full.Vt[c * n + j];
    assert.ok(maxAbs(rec.map((v, i) => v - a[i])) < 1e-10, 'reconstruction');
    const k = 3;
    const t = truncatedSvd(a, m, n, k);
    let err = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let v = 0;
        for (let c = 0; c < k; c++) v += t.U[i * k + c] * t.S[c] * t.Vt[c * n + j];
        err += (a[i * n + j] - v) ** 2;
      }
    }
    const tail = Array.from(full.S).slice(k).reduce((s, x) => s + x * x, 0);
    assert.ok(Math.abs(err - tail) < 1e-9, `Eckart–Young: ${err} vs ${tail}`);
  }
});

test('orthonormal columns: orthonormal, and a longer request extends the same basis', () => {
  const n = 20;
  const q = orthonormalColumns(n, 8, 42);
  const more = orthonormalColumns(n, 12, 42);
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += q[k * 8 + i] * q[k * 8 + j];
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12);
    }
    for (let k = 0; k < n; k++) assert.equal(q[k * 8 + i], more[k * 12 + i]);
  }
  assert.throws(() => orthonormalColumns(4, 5, 0), /has 4 columns/);
});
