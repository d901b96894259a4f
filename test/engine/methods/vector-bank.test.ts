// VB-LoRA (lowrank basis: bank) as Python peft computes it: A and B assembled from one bank by a
// top-k softmax per sub-vector, in peft's layouts, checked against the admixture written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { BankLowRank, VectorBank } from '../../../src/engine/methods/vector-bank.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { normalArray } from '../../../src/engine/random.js';
import { composition, llama, plan } from './helpers.js';

const rand = (shape: number[], seed: number, std = 0.5) => tf.tensor(normalArray(shape.reduce((a, b) => a * b, 1), std, seed), shape);

test('VB-LoRA: A [r, in] and B [out, r] from logits [r, in/L, N] and [out/L, r, N] as peft arranges them', async () => {
  await useBackend();
  const [r, inD, outD, N, L, k] = [2, 8, 12, 5, 4, 2];
  const bank = new VectorBank(N, L);
  bank.nameTree();
  bank.bank.set(rand([N, L], 7));
  const m = new BankLowRank(inD, outD, r, k, bank);
  m.configureComposition(composition(null), inD);
  m.nameTree();
  m.logitsA.set(rand([r, inD / L, N], 8, 1));
  m.logitsB.set(rand([outD / L, r, N], 9, 1));
  // the admixture written out: the k largest logits, their softmax, the weighted bank vectors
  const mix = (logits: number[]) => {
    const idx = logits.map((v, i) => [v, i]).sort((p, q) => q[0] - p[0]).slice(0, k);
    const e = idx.map(([v]) => Math.exp(v - idx[0][0]));
    const z = e.reduce((a, b) => a + b, 0);
    const vecs = bank.bank.value.arraySync() as number[][];
    return Array.from({ length: L }, (_, j) => idx.reduce((s, [, i], t) => s + (e[t] / z) * vecs[i][j], 0));
  };
  const la = m.logitsA.value.arraySync() as number[][][];
  const A = la.map((row) => row.flatMap((sub) => mix(sub)));
  const lb = m.logitsB.value.arraySync() as number[][][];
  // B[s·L + j, c] = admixture of logits_B[s, c][j]
  const B = Array.from({ length: outD }, (_, o) => Array.from({ length: r }, (_, c) => mix(lb[Math.floor(o / L)][c])[o % L]));
  const f = m.factors();
  assertClose(f.a, { shape: [r, inD], data: A.flat() }, 'A');
  assertClose(f.b, { shape: [outD, r], data: B.flat() }, 'B');
});

test('VB-LoRA on LLaMA: a vector length that does not divide a projection is an error at its option', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  assert.throws(() => injectMethod(llama(), plan({ preset: 'vblora', vector_length: 12, num_vectors: 8 }), 0), /sub-vectors of length 12, but model.layers.0.self_attn.q_proj is 32 → 32/);
});
