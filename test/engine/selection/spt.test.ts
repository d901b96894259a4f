// SPT against the authors' code (test/fixtures/reference/spt): per-entry sensitivity (sum over
// batches of squared gradients), the global top-k and the allocation rule at every step of their
// sweep (which matrices get LoRA, which vectors train whole, how many single entries), the
// indices they save, the sparse-delta linear layer (forward and backward) and the LoRA branch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { assertClose, useBackend } from '../../helpers/fixtures.js';
import { Linear } from '../../../src/engine/nn/linear.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { SelectedLinear } from '../../../src/engine/selection/selected-linear.js';
import { sptAllocate, type SptTensor } from '../../../src/engine/selection/spt-allocate.js';
import type { SiteInfo } from '../../../src/engine/backbones/types.js';
import { reference } from './helpers.js';

const ref = reference('spt');
const R = ref.case.results;
const ORDER: string[] = R.ranked_tensor_order;
const OPTIONS = { rank: ref.case.config.low_rank_dim, factor: ref.case.config.alpha, beta: ref.case.config.beta };

/** The sweep's short names (`0.attn.v.W`) as parameter names (`blocks.0.attn.v.weight`). */
const long = (s: string) => `${/^\d/.test(s) ? 'blocks.' : ''}${s.replace(/\.W$/, '.weight').replace(/\.b$/, '.bias')}`;

function tensors(): SptTensor[] {
  return ORDER.map((name) => ({
    name, scores: ref.f32(`sensitivity.${name}`), shape: ref.file.info(`sensitivity.${name}`).shape,
    kind: /norm|bias/.test(name) ? 'vector' : 'matrix',
  }));
}

test('spt: sensitivity = Σ over the measured batches of the squared gradient, per entry', () => {
  const batches = ref.case.config.sensitivity_batch_num as number;
  for (const name of ORDER) {
    const sum = new Float32Array(ref.file.info(`sensitivity.${name}`).shape.reduce((a: number, b: number) => a * b, 1));
    for (let b = 0; b < batches; b++) {
      const g = ref.f32(`grad_batch${b}.${name}`);
      for (let i = 0; i < g.length; i++) sum[i] += g[i] * g[i];
    }
    assertClose(sum, Array.from(ref.f32(`sensitivity.${name}`)), name);
  }
});

test('spt: the allocation at every step of the authors\' sweep (LoRA matrices, whole vectors, single entries, cost)', () => {
  const all = tensors();
  for (const row of R.sweep as { j: number; k: number; structured: string[]; vectors: string[]; unstructured_entries: number; structured_params: number }[]) {
    const a = sptAllocate(all, row.k, OPTIONS);
    assert.deepEqual(a.structured, row.structured.map(long), `step ${row.j}: LoRA matrices`);
    assert.deepEqual(a.vectors, row.vectors.map(long), `step ${row.j}: whole vectors`);
    assert.equal(a.unstructuredCount, row.unstructured_entries, `step ${row.j}: single entries`);
    assert.equal(a.structuredParams, row.structured_params, `step ${row.j}: structured parameters`);
  }
});

test('spt: the chosen step\'s top-k masks and the indices the authors save', () => {
  const all = tensors();
  const chosen = R.chosen_step;
  const a = sptAllocate(all, chosen.top_k_entries, OPTIONS);
  for (const name of ORDER) {
    const mask = ref.i32(`selected.${name}`);
    assert.deepEqual([...a.selected.get(name)!], [...mask.keys()].filter((i) => mask[i] === 1), `${name}: selected entries`);
  }
  // their unstructured_indexes: flat positions in the concatenation of the tensors that are neither LoRA nor whole vectors
  const flat: number[] = [];
  let offset = 0;
  for (const t of all) {
    if (a.structured.includes(t.name) || a.vectors.includes(t.name)) continue;
    for (const i of a.selected.get(t.name)!) flat.push(offset + i);
    offset += t.scores.length;
  }
  assert.deepEqual(flat, [...ref.i32('chosen.unstructured_indexes')]);
  const tuned = ref.i32('chosen.tuned_matrices');
  const kinds = ['attn.q', 'attn.k', 'attn.v', 'attn.proj', 'mlp.fc1', 'mlp.fc2'];
  for (let block = 0; block < 2; block++) {
    kinds.forEach((k, j) => assert.equal(tuned[block * 6 + j] === 1, a.structured.includes(`blocks.${block}.${k}.weight`), `block ${block} ${k}`));
  }
});

function site(path: string, inDim: number, outDim: number): SiteInfo {
  return { path, stack: 'model', layer: 0, position: 'attn.query', kind: 'linear', inDim, outDim };
}

test('spt: a sparse-delta linear layer (LinearSPTSparseGrad): forward, entry gradients and input gradient', async () => {
  await useBackend();
  const base = new Linear(8, 8);
  base.weight.set(ref.t('param.blocks.0.attn.q.weight'));
  base.bias!.set(ref.t('param.blocks.0.attn.q.bias'));
  const rc = ref.i32('unstructured.indexes');
  const n = rc.length / 2;
  const indices = Int32Array.from({ length: n }, (_, i) => rc[i] * 8 + rc[n + i]);
  const m = new SelectedLinear(site('q', 8, 8), base, [{ form: 'sparse', tensor: 'weight', indices }]);
  m.nameTree();
  const w = base.weight.value.dataSync();
  const delta = ref.f32('unstructured.sparse_weight');
  const values = m.sparseValues('weight')!;
  values.set(tf.tensor1d(Float32Array.from(indices, (i, j) => w[i] + delta[j])));
  values.makeTrainable();
  m.keepIndexTensors();
  const x = ref.t('unstructured.x');
  const ctx = new ForwardContext(new Map([['q', [m]]]), { training: true });
  assertClose(tf.tidy(() => ctx.linear('q', x, base)), Array.from(ref.f32('unstructured.y')), 'y');
  const G = ref.t('unstructured.G');
  const gv = tf.grad((v: tf.Tensor) => {
    return tf.sum(tf.mul(ctx.linear('q', v, base), G)) as tf.Scalar;
  })(x);
  assertClose(gv, Array.from(ref.f32('unstructured.grad_x')), 'dL/dx');
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(ctx.linear('q', x, base), G)) as tf.Scalar, [values.variable]);
  assertClose(grads[values.variable.name], Array.from(ref.f32('unstructured.grad_sparse_weight')), 'dL/d delta');
});

test('spt: the structured branch y = W·x + b + B·A·x (no α/r scaling)', async () => {
  await useBackend();
  const base = new Linear(8, 8);
  base.weight.set(ref.t('param.blocks.0.attn.v.weight'));
  base.bias!.set(ref.t('param.blocks.0.attn.v.bias'));
  const m = new SelectedLinear(site('v', 8, 8), base, [{ form: 'lowrank', tensor: 'weight', rank: 2 }]);
  m.nameTree();
  m.A!.set(ref.t('lora.A'));
  m.B!.set(ref.t('lora.B'));
  const ctx = new ForwardContext(new Map([['v', [m]]]), { training: true });
  const x = ref.t('lora.x');
  const y = tf.tidy(() => ctx.linear('v', x, base));
  assertClose(y, Array.from(ref.f32('lora.y')), 'y');
  assertClose(tf.sub(y, base.forward(x)), Array.from(ref.f32('lora.delta')), 'the branch', 1e-4, 1e-5);
  // merged: W + B·A gives the same outputs
  const folded = m.folded().get('weight')!;
  assertClose(base.forwardWith(x, folded, base.bias!.value), Array.from(ref.f32('lora.y')), 'merged');
});
