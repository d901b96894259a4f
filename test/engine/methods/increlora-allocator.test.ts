// IncreLoRA (svd with rank_schedule: grow) against the authors' code (test/fixtures/reference/
// increlora): two trainer steps of four modules — forward with the reserve block, gradients of A,
// E and B (the reserve's E frozen), the backward-hook scores, the EMAs, the top-k threshold, which
// modules grow, and the reserve/E state after growth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { SvdLowRank } from '../../../src/engine/methods/svd.js';
import { IncreAllocator, RESERVE_E } from '../../../src/engine/methods/increlora-allocator.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { composition, linearOf } from './helpers.js';

const ref = reference('increlora');
const cfg = ref.case.config;
const ROWS = 4;
const exact = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${what}: ${a} vs ${b}`);

/** Rows [0, n) of a [ROWS, c] parameter (or columns of B) set from a tensor. */
function setRows(p: SvdLowRank['A'], t: tf.Tensor, columns = false): void {
  const v = Float32Array.from(p.value.dataSync());
  const src = t.arraySync() as number[][];
  const [rows, cols] = p.shape;
  src.forEach((row, i) => row.forEach((x, j) => { v[columns ? i * cols + j : i * cols + j] = x; }));
  p.set(tf.tensor(v, [rows, cols]));
}

function slice(t: tf.Tensor, n: number, columns = false): tf.Tensor {
  return columns ? tf.slice(t, [0, 0], [-1, n]) : tf.slice(t, [0, 0], [n, -1]);
}

test('IncreLoRA: two steps of their trainer — outputs, gradients, scores, EMAs, threshold, growth, reserves', async () => {
  await useBackend();
  const mods = ref.case.modules.map((d: { name: string; in_features: number; out_features: number }) => {
    const m = new SvdLowRank(d.in_features, d.out_features, ROWS, true);
    m.configureComposition(composition(ref.case.scaling), d.in_features);
    m.nameTree();
    for (const p of [m.A, m.E, m.B]) p.set(tf.zeros([...p.shape]));
    setRows(m.A, ref.t(`${d.name}.A_init`));
    setRows(m.B, ref.t(`${d.name}.B_init`), true);
    setRows(m.E, ref.t(`${d.name}.E_set`));
    m.setRanks(1, 0);
    for (const p of [m.A, m.E, m.B]) p.makeTrainable();
    return { name: d.name, m, base: linearOf(ref.t(`${d.name}.W`), ref.t(`${d.name}.bias`)) };
  });
  const alloc = new IncreAllocator(mods.map((x: { m: SvdLowRank }) => x.m), {
    first: cfg.lora_r, target: cfg.target_rank, step: ref.case.incre_rank_num, top: cfg.top_h, tinit: cfg.init_warmup, deltaT: cfg.incre_interval,
    beta1: cfg.beta1, beta2: cfg.beta2, seed: 0, scale: ref.case.scaling,
  });
  const step = (k: 0 | 1) => {
    const vars = mods.flatMap(({ m }: { m: SvdLowRank }) => [m.A.variable, m.E.variable, m.B.variable]);
    const ys = new Map<string, tf.Tensor>();
    const { grads } = tf.variableGrads(() => tf.addN(mods.map(({ name, m, base }: { name: string; m: SvdLowRank; base: ReturnType<typeof linearOf> }) => {
      const y = new ForwardContext(new Map([['s', [m]]]), { training: true }).linear('s', ref.t(`${name}.x${k}`), base);
      ys.set(name, tf.keep(y));
      return tf.sum(tf.mul(y, ref.t(`${name}.G${k}`)));
    })) as tf.Scalar, vars);
    return { ys, grads };
  };
  // step 0: the initial rank alone
  const s0 = step(0);
  for (const { name, m } of mods) {
    assertClose(s0.ys.get(name)!, ref.j(`${name}.y0`), `${name}.y0`);
    exact(m.scoreSum, ref.v(`${name}.score0`)[0], `${name}.score0`);
  }
  alloc.update(0);
  for (const { name, m } of mods) {
    assert.deepEqual(m.ranks, [1, 1], 'a reserve of one rank after step 0');
    assert.equal(m.E.value.dataSync()[1], Math.fround(RESERVE_E));
    // their reserve rows are drawn by torch: take theirs to follow the same numbers
    const a = Float32Array.from(m.A.value.dataSync());
    a.set(ref.t(`${name}.reserve_a0`).dataSync(), m.inDim);
    m.A.set(tf.tensor(a, [...m.A.shape]));
    const b = tf.concat([slice(m.B.value, 1, true), ref.t(`${name}.reserve_b0`), tf.slice(m.B.value, [0, 2], [-1, -1])], 1);
    m.B.set(b);
  }
  const st0 = alloc.state().meta;
  mods.forEach(({ name }: { name: string }, i: number) => {
    exact(st0.ipt[i], ref.v(`${name}.avg_ipt0`)[0], `${name}.avg_ipt0`);
    exact(st0.unc[i], ref.v(`${name}.avg_unc0`)[0], `${name}.avg_unc0`);
  });
  // step 1: with the reserve (its E frozen at 1e-5)
  const s1 = step(1);
  for (const { name, m } of mods) {
    assertClose(s1.ys.get(name)!, ref.j(`${name}.y1`), `${name}.y1`);
    assertClose(slice(s1.grads[m.A.variable.name], 2), ref.j(`${name}.grad_A1`), `${name}.grad_A1`);
    assertClose(slice(s1.grads[m.B.variable.name], 2, true), ref.j(`${name}.grad_B1`), `${name}.grad_B1`);
    const gE = slice(s1.grads[m.E.variable.name], 2);
    assertClose(gE, ref.j(`${name}.grad_E1`), `${name}.grad_E1`, 1e-4, 1e-9);
    assert.equal(gE.dataSync()[1], 0, 'the reserve\'s E gets no gradient');
    exact(m.scoreSum, ref.v(`${name}.score1`)[0], `${name}.score1`);
  }
  const grown = alloc.update(1);
  exact(alloc.lastThreshold!, ref.v('increase_threshold')[0], 'threshold');
  assert.deepEqual(mods.map((_: unknown, i: number) => (grown.includes(i) ? 1 : 0)), ref.v('grown'));
  const st1 = alloc.state().meta;
  const imp = alloc.importance();
  mods.forEach(({ name, m }: { name: string; m: SvdLowRank }, i: number) => {
    exact(st1.ipt[i], ref.v(`${name}.avg_ipt1`)[0], `${name}.avg_ipt1`);
    exact(st1.unc[i], ref.v(`${name}.avg_unc1`)[0], `${name}.avg_unc1`);
    exact(imp[i], ref.v(`${name}.ipt_score1`)[0], `${name}.ipt_score1`);
    assert.equal(m.ranks[0], ref.v(`${name}.ranknum_after`)[0]);
    const rows = ref.t(`${name}.E_after`).shape[0];
    assertClose(slice(m.E.value, rows), ref.j(`${name}.E_after`), `${name}.E_after`, 1e-4, 0);
    assert.equal(m.used, rows);
    assert.equal(IncreAllocator.trainable(m), ref.case.trainable_parameters_after[name]);
  });
  assert.equal(alloc.total(), ref.case.total_rank_after);
});
