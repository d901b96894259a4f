import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { SvdLowRank } from '../../../src/engine/methods/svd.js';
import { adaloraScale } from '../../../src/plan/index.js';
const svdScale = (alpha: number, rank: number) => adaloraScale({ alpha, rank });
import { RankAllocator } from '../../../src/engine/methods/rank-allocator.js';
import { Linear } from '../../../src/engine/nn/linear.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { normalArray } from '../../../src/engine/random.js';
import { llama, plan, randomize, logits, maxDiff } from './helpers.js';

function random(m: { nameTree(): void; namedParams(): [string, { size: number; shape: readonly number[]; set(t: tf.Tensor): void }][] }, seed: number): void {
  m.nameTree();
  m.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 0.5, seed + i), [...p.shape])));
}

test('svd (AdaLoRA) starts as the identity (E = 0) and scales by α/(r + 1e-5) as peft', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const method = plan({ preset: 'adalora', rank: 4, alpha: 8 });
  assert.equal(method.modules[0].scale, svdScale(8, 4));
  const peft = injectMethod(model, method, 0);
  assert.equal(maxDiff(logits(model, peft), logits(model, null)), 0);
});

test('svd: y = base(x) + s·x·(A ⊙ E)ᵀ·Bᵀ', async () => {
  await useBackend();
  const [inD, outD, r] = [6, 5, 3];
  const base = new Linear(inD, outD);
  random(base, 0);
  const m = new SvdLowRank(inD, outD, r);
  const s = svdScale(8, r);
  m.configureComposition(plan({ preset: 'adalora', rank: r, alpha: 8 }).modules[0], inD, s);
  random(m, 10);
  const x = tf.tensor(normalArray(3 * inD, 1, 5), [3, inD]);
  const ctx = new ForwardContext(new Map([['site', [m]]]), { training: false });
  const ae = tf.mul(m.A.value, m.E.value) as tf.Tensor2D;
  const want = tf.add(base.forward(x), tf.mul(tf.matMul(tf.matMul(x as tf.Tensor2D, ae, false, true), m.B.value as tf.Tensor2D, false, true), s));
  assert.ok(maxDiff(ctx.linear('site', x, base), want) < 1e-5);
});

test('svd orthogonality regulariser: orth_reg · mean over P and Q of ‖PᵀP − I‖_F / ‖QQᵀ − I‖_F (peft)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'adalora', rank: 4, orth_reg: 0.3 }), 0);
  randomize(peft);
  let sum = 0;
  let n = 0;
  for (const [name, p] of peft.store.namedParams()) {
    const w = p.value as tf.Tensor2D;
    if (name.endsWith('lora_A')) sum += tf.norm(tf.sub(tf.matMul(w, w, false, true), tf.eye(4))).dataSync()[0];
    else if (name.endsWith('lora_B')) sum += tf.norm(tf.sub(tf.matMul(w, w, true, false), tf.eye(4))).dataSync()[0];
    else continue;
    n++;
  }
  assert.equal(n, 8);
  const got = peft.extraLoss()!.dataSync()[0];
  assert.ok(Math.abs(got - (0.3 * sum) / n) < 1e-5 * got, `${got} vs ${(0.3 * sum) / n}`);
});

test('rank allocator: the cubic budget schedule from init_r·n to target_r·n (tinit, tfinal, deltaT)', () => {
  const fake = (r: number) => ({ rank: r, inDim: 1, outDim: 1 }) as never;
  const alloc = new RankAllocator([fake(12), fake(12)], { initR: 12, targetR: 8, tinit: 2, tfinal: 3, deltaT: 2, beta1: 0.85, beta2: 0.85 });
  assert.equal(alloc.initBudget, 24);
  assert.equal(alloc.targetBudget, 16);
  const T = 10;
  // warm-up: full budget, no masking
  assert.deepEqual(alloc.budgetAt(0, T), { budget: 24, mask: false });
  assert.deepEqual(alloc.budgetAt(2, T), { budget: 24, mask: false });
  // cubic decrease over steps 3..7 (span T − tfinal − tinit = 5), masking every deltaT steps
  assert.deepEqual(alloc.budgetAt(3, T), { budget: Math.trunc(8 * 0.8 ** 3 + 16), mask: false });
  assert.deepEqual(alloc.budgetAt(4, T), { budget: Math.trunc(8 * 0.6 ** 3 + 16), mask: true });
  assert.deepEqual(alloc.budgetAt(7, T), { budget: 16, mask: false });
  // final phase: the target budget
  assert.deepEqual(alloc.budgetAt(8, T), { budget: 16, mask: true });
});

test('rank allocator: keeps the budget\'s most important triplets by |w·∇w| EMAs, zeroes the rest\'s singular values, then freezes the pattern', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'adalora', rank: 4, target_rank: 2, tinit: 0, tfinal: 2, delta_t: 1 }), 0);
  randomize(peft, 5, 0.5);
  const T = 6;
  const eOf = () => peft.store.namedParams().filter(([n]) => n.endsWith('lora_E')).map(([, p]) => Array.from(p.value.dataSync()));
  // gradients with |w·∇w| = 4·i + j + 1 for triplet j of module i: every entry of a triplet
  // equally important, all triplets ranked module by module
  const grads = (): Map<string, tf.Tensor> => {
    const out = new Map<string, tf.Tensor>();
    let i = -1;
    for (const [name, p] of peft.store.namedParams()) {
      if (name.endsWith('lora_A')) i++;
      const rank = tf.add(tf.range(1, 5), 4 * i);
      const c = name.endsWith('lora_B') ? tf.tile(tf.reshape(rank, [1, 4]), [p.shape[0], 1]) : tf.tile(tf.reshape(rank, [4, 1]), [1, p.shape[1]]);
      out.set(name, tf.where(tf.equal(p.value, 0), c, tf.div(c, p.value)));
    }
    return out;
  };
  for (let step = 0; step < T; step++) {
    peft.afterStep({ step, totalSteps: T, grads: grads() });
    const kept = eOf().flat().filter((v) => v !== 0).length;
    if (step === 0) assert.equal(kept, 16, 'no masking at tinit');
    if (step === T - 2) assert.equal(kept, 8, 'the target budget at T − tfinal');
  }
  // the least important triplets went: the first two modules lost all their rank
  assert.deepEqual(eOf().map((row) => row.map((v) => v !== 0)), [
    [false, false, false, false], [false, false, false, false], [true, true, true, true], [true, true, true, true],
  ]);
  // after T − tfinal the frozen pattern is re-applied: a revived singular value is zeroed again
  const E0 = peft.store.namedParams().find(([n]) => n.endsWith('lora_E'))![1];
  E0.set(tf.ones([4, 1]));
  peft.afterStep({ step: T - 1, totalSteps: T, grads: grads() });
  assert.deepEqual(Array.from(E0.value.dataSync()), [0, 0, 0, 0]);
});
