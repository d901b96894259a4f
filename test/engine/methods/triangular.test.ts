// TriAdaptLoRA (lowrank factorization: triangular, rank_schedule: grow) against the first author's
// code (test/fixtures/reference/triadaptlora): the block-triangular core, outputs and block
// gradients before and after growth, the normalised-norm scores, the linear and non-linear
// thresholds, which modules grow, trainable counts; and where we follow the paper instead of
// their code (a new block is the identity on its own diagonal: growth leaves ΔW unchanged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, assertClose, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { reference } from '../../helpers/reference.js';
import { TriangularLowRank, blockSizes } from '../../../src/engine/methods/triangular.js';
import { TriAdaptAllocator } from '../../../src/engine/methods/triadapt-allocator.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { composition, linearOf, siteRun, llama, plan, logits, maxDiff } from './helpers.js';

const ref = reference('triadaptlora');
const cfg = ref.case.config;
const MAX = 4;

/** Writes block tensors into the reserved [MAX, …] parameters at (row, col). */
function put(p: TriangularLowRank['A'], t: tf.Tensor, row: number, col: number): void {
  const v = Float32Array.from(p.value.dataSync());
  const [, cols] = p.shape;
  (t.arraySync() as number[][]).forEach((r, i) => r.forEach((x, j) => { v[(row + i) * cols + col + j] = x; }));
  p.set(tf.tensor(v, [...p.shape]));
}

function module(name: string, d: { in_features: number; out_features: number }, phase: 'before' | 'after', blocks: number): TriangularLowRank {
  const m = new TriangularLowRank(d.in_features, d.out_features, cfg.init_rank, ref.case.incre_rank_num, MAX);
  m.configureComposition(composition(ref.case.scale_active_file), d.in_features);
  m.nameTree();
  for (const p of [m.A, m.B, m.Crow, m.Ccol]) p.set(tf.zeros([...p.shape]));
  let s = 0;
  for (let i = 0; i < blocks; i++) {
    const r = 2;
    put(m.A, ref.t(`${name}.lora_A.${i}_${phase}`), s, 0);
    put(m.B, ref.t(`${name}.lora_B.${i}_${phase}`), 0, s);
    put(m.Crow, ref.t(`${name}.lora_C_row.${i}_${phase}`), s, 0);
    put(m.Ccol, ref.t(`${name}.lora_C_col.${i}_${phase}`), 0, s);
    s += r;
  }
  m.setRank(s);
  return m;
}

test('TriAdaptLoRA: C from the row and column blocks, y and block gradients before and after growth', async () => {
  await useBackend();
  const grownAfter = ref.v('grown');
  ref.case.modules.forEach((d: { name: string; in_features: number; out_features: number }, i: number) => {
    const base = linearOf(ref.t(`${d.name}.W`), ref.t(`${d.name}.bias`));
    for (const phase of ['before', 'after'] as const) {
      const blocks = phase === 'after' && grownAfter[i] ? 2 : 1;
      const m = module(d.name, d, phase, blocks);
      if (phase === 'after') assertClose(m.core(), ref.j(`${d.name}.C_after`), `${d.name}.C_after`);
      const { y, grads } = siteRun(m, base, ref.t(`${d.name}.x`), ref.t(`${d.name}.G`));
      assertClose(y, ref.j(`${d.name}.y_${phase}`), `${d.name}.y_${phase}`);
      let s = 0;
      for (let b = 0; b < blocks; b++) {
        const end = s + 2;
        const g = (n: string) => grads.get(n)!;
        assertClose(tf.slice(g('lora_A'), [s, 0], [2, -1]), ref.j(`${d.name}.grad_lora_A.${b}_${phase}`), `dA ${b}`);
        assertClose(tf.slice(g('lora_B'), [0, s], [-1, 2]), ref.j(`${d.name}.grad_lora_B.${b}_${phase}`), `dB ${b}`);
        assertClose(tf.slice(g('lora_C_row'), [s, 0], [2, end]), ref.j(`${d.name}.grad_lora_C_row.${b}_${phase}`), `dC_row ${b}`);
        assertClose(tf.slice(g('lora_C_col'), [0, s], [end, 2]), ref.j(`${d.name}.grad_lora_C_col.${b}_${phase}`), `dC_col ${b}`);
        s = end;
      }
      if (phase === 'after') {
        const fold = m.fold();
        if (fold.kind === 'delta') assertClose(tf.transpose(fold.matrix()), ref.j(`${d.name}.delta_w_after`), 'ΔW after');
      }
      assert.equal(TriangularLowRank.params(d.in_features, d.out_features, blockSizes(m.rank, 2, 2)), ref.case[`trainable_parameters_${phase === 'before' ? 'init' : 'after'}`][d.name]);
    }
  });
});

test('TriAdaptLoRA allocation: scores = change of ‖C‖_F / blocks, linear and non-linear thresholds, the grown modules', async () => {
  await useBackend();
  const mods = ref.case.modules.map((d: { name: string; in_features: number; out_features: number }) => module(d.name, d, 'before', 1));
  const make = (curve: 'linear' | 'nonlinear') => {
    const a = new TriAdaptAllocator(mods, { first: 2, target: cfg.reference_rank, step: 2, tinit: cfg.init_warmup, deltaT: cfg.incre_interval, curve, seed: 0 });
    mods.forEach((m: TriangularLowRank, i: number) => { m.preNorm = ref.v(`${ref.case.modules[i].name}.pre_norm_init`)[0]; });
    return a;
  };
  const lin = make('linear');
  assert.equal(lin.growCount(ref.case.global_step, cfg.total_step), ref.case.num_increase_matrices_linear);
  assert.equal(make('nonlinear').growCount(ref.case.global_step, cfg.total_step), ref.case.num_increase_matrices_nonlinear);
  const scores = make('linear').scores();
  scores.forEach((s: number, i: number) => assert.ok(Math.abs(s - ref.case.scores[i]) < 1e-5, `score ${i}`));
  mods.forEach((m: TriangularLowRank, i: number) => assert.ok(Math.abs(m.preNorm - ref.v(`${ref.case.modules[i].name}.pre_norm_after`)[0]) < 1e-5));
  const sorted = [...scores].sort((a, b) => b - a);
  assert.ok(Math.abs(sorted[1] - ref.v('threshold_linear')[0]) < 1e-5);
  assert.ok(Math.abs(sorted[0] - ref.v('threshold_nonlinear')[0]) < 1e-5);
  // growth at their step: the two best (m2, m3) gain a block of 2
  mods.forEach((m: TriangularLowRank, i: number) => { m.preNorm = ref.v(`${ref.case.modules[i].name}.pre_norm_init`)[0]; });
  const before = mods.map((m: TriangularLowRank) => tf.tidy(() => { const f = m.fold(); return f.kind === 'delta' ? tf.keep(f.matrix()) : tf.zeros([1]); }));
  const grown = make('linear').update(ref.case.global_step, cfg.total_step);
  assert.deepEqual(mods.map((_: unknown, i: number) => (grown.includes(i) ? 1 : 0)), ref.v('grown'));
  assert.deepEqual(mods.map((m: TriangularLowRank) => m.rank), ref.case.ranks_after);
  // ours: the new block's own diagonal is the identity and its B columns zero, so ΔW does not move;
  // theirs puts the ones in the first columns and ΔW jumps
  mods.forEach((m: TriangularLowRank, i: number) => {
    const f = m.fold();
    if (f.kind === 'delta') assert.ok(maxDiff(f.matrix(), before[i]) < 1e-6, `module ${i}: growth preserves ΔW`);
  });
  const name = ref.case.modules[2].name;
  const jump = maxDiff(ref.t(`${name}.delta_w_at_growth`), tf.transpose(before[2]));
  assert.ok(jump > 1e-3, `their growth moves ΔW (${jump})`);
});

test('triadaptlora on LLaMA: identity at init, ranks grow to the budget during training, and resume restores them', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const method = plan({ preset: 'triadaptlora', rank: 2, target_rank: 4, grow_by: 2, tinit: 0, delta_t: 1 });
  const peft = injectMethod(model, method, 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
  const mods = [...peft.attachments.values()].flat() as TriangularLowRank[];
  // move the cores so that the scores differ, then allocate at steps 1, 2, …
  mods.forEach((m, i) => m.Crow.set(tf.mul(m.Crow.value, 1 + 0.1 * i)));
  for (let step = 1; step <= 4; step++) peft.afterStep({ step, totalSteps: 10, grads: new Map() });
  assert.equal(mods.reduce((n, m) => n + m.rank, 0), 4 * mods.length, 'the budget is reached');
  const saved = peft.trainingState();
  const again = injectMethod(llama(), method, 0);
  again.restoreTrainingState(saved.meta, (n) => saved.arrays.get(n) ?? null);
  assert.deepEqual(([...again.attachments.values()].flat() as TriangularLowRank[]).map((m) => m.rank), mods.map((m) => m.rank));
});
