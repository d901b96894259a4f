// Orthonormal columns from a seeded Gaussian matrix (modified Gram–Schmidt, twice, in float64):
// the orthogonal factor of its QR decomposition up to column signs. Column j depends only on the
// first j + 1 Gaussian columns, so asking for more columns with the same seed extends the same
// basis: adapters that take disjoint column ranges of one seed's basis are exactly orthogonal.
import { normalArray } from '../random.js';

/** The first `count` columns of the seeded orthogonal basis of R^n: row-major [n, count]. */
export function orthonormalColumns(n: number, count: number, seed: number): Float64Array {
  if (count > n) throw new RangeError(`an orthonormal basis of R^${n} has ${n} columns, not ${count}`);
  const cols: Float64Array[] = [];
  for (let j = 0; j < count; j++) {
    // each column draws from its own stream: column j is the same whatever `count` is
    const v = Float64Array.from(normalArray(n, 1, (seed + Math.imul(j + 1, 0x9e3779b1)) >>> 0));
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i] /= norm;
    cols.push(v);
  }
  const out = new Float64Array(n * count);
  for (let j = 0; j < count; j++) for (let i = 0; i < n; i++) out[i * count + j] = cols[j][i];
  return out;
}
