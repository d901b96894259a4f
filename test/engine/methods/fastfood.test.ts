// The random projections of a subspace, checked by the invariants of the intrinsic-dimension
// construction (test/fixtures/reference/intrinsic_dimension/README.md; the authors' code is TF1
// and cannot run here): the Hadamard transform, Fastfood = its explicit matrix, column norms,
// linearity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/fixtures.js';
import { fastfood, fastfoodFactors, fastfoodNorm, hadamard, paddedSize } from '../../../src/engine/methods/fastfood.js';

function project(f: ReturnType<typeof fastfoodFactors>, d: tf.Tensor1D): tf.Tensor1D {
  return fastfood(d, {
    signs: tf.tensor1d(f.signs), perm: tf.tensor1d(f.perm, 'int32'), gauss: tf.tensor1d(f.gauss), D: f.D, LL: f.LL, norm: fastfoodNorm(f),
  });
}

test('Walsh–Hadamard: their docstring example, and H·H = LL·I', async () => {
  await useBackend();
  assert.deepEqual(Array.from(hadamard(tf.tensor1d([1, 0, 1, 0, 0, 1, 1, 0])).dataSync()), [4, 2, 0, -2, 0, 2, 0, 2]);
  const x = tf.tensor1d([0.5, -1, 2, 3, 0, 1, -2, 0.25]);
  const twice = hadamard(hadamard(x));
  assert.ok(tf.max(tf.abs(tf.sub(twice, tf.mul(x, 8)))).dataSync()[0] < 1e-5);
  assert.equal(paddedSize(64), 64);
  assert.equal(paddedSize(65), 128);
});

test('Fastfood: P·d equals the explicit matrix (1/√(D·ΣG²))·S·H·G·Π·H·B·E, and is linear', async () => {
  await useBackend();
  const [D, dd] = [40, 5];
  const f = fastfoodFactors(3, 'test', D);
  const LL = f.LL;
  // the explicit matrix, column by column from the formula
  const H = (i: number, j: number) => ((popcount(i & j) % 2) === 0 ? 1 : -1);
  const norm = Math.sqrt(D * f.gauss.reduce((s, g) => s + g * g, 0));
  for (let j = 0; j < dd; j++) {
    const e = new Float32Array(dd);
    e[j] = 1;
    const got = project(f, tf.tensor1d(e)).dataSync();
    for (let row = 0; row < D; row++) {
      let v = 0;
      for (let k = 0; k < LL; k++) v += H(row, k) * f.gauss[k] * H(f.perm[k], j) * f.signs[j];
      assert.ok(Math.abs(got[row] - v / norm) < 1e-4, `P[${row}, ${j}]`);
    }
  }
  const a = tf.tensor1d([0.3, -1, 2, 0, 0.5]);
  const b = tf.tensor1d([1, 1, -0.5, 2, 0]);
  const lhs = project(f, tf.add(tf.mul(a, 2), tf.mul(b, -3)) as tf.Tensor1D);
  const rhs = tf.add(tf.mul(project(f, a), 2), tf.mul(project(f, b), -3));
  assert.ok(tf.max(tf.abs(tf.sub(lhs, rhs))).dataSync()[0] < 1e-5);
});

test('Fastfood columns: squared norm exactly 1 when D is a power of two, ≈ 1 otherwise', async () => {
  await useBackend();
  for (const [D, tol] of [[64, 1e-5], [1000, 0.15]] as const) {
    const f = fastfoodFactors(11, 'norms', D);
    const norms = Array.from({ length: 8 }, (_, j) => {
      const e = new Float32Array(8);
      e[j] = 1;
      return tf.sum(tf.square(project(f, tf.tensor1d(e)))).dataSync()[0];
    });
    if (D === 64) norms.forEach((n) => assert.ok(Math.abs(n - 1) < tol, `‖P e_j‖² = ${n}`));
    else assert.ok(Math.abs(norms.reduce((a, b) => a + b, 0) / norms.length - 1) < tol, `mean ${norms}`);
  }
});

function popcount(x: number): number {
  let c = 0;
  for (let v = x; v; v &= v - 1) c++;
  return c;
}
