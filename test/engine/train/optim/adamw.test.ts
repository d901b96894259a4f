import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '../../../../src/engine/train/optim/adamw.js';
import { Adam } from '../../../../src/engine/train/optim/adam.js';
import { createOptimizer } from '../../../../src/engine/train/optim/create.js';
import type { OptimizerPlan } from '../../../../src/plan/index.js';
import { assertClose, disposeMap, gradMap, readF32Safetensors, useCpu, values, vars } from './helpers.js';
import { fixture, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';

await useCpu();

const GOLDEN = fixture('peft', 'bert-lora');

interface GradsJson {
  trainable: string[];
  grads: Record<string, { shape: number[]; data: number[] }>;
  optimizer: { name: string; lr: number; betas: [number, number]; eps: number; weight_decay: number };
}

test('AdamW matches one torch.optim.AdamW step on the BERT-LoRA golden', { skip: SKIP_NO_SHARED }, () => {
  const golden = JSON.parse(readFileSync(join(GOLDEN, 'grads.json'), 'utf8')) as GradsJson;
  const start = readF32Safetensors(join(GOLDEN, 'adapter_model.safetensors'));
  const after = readF32Safetensors(join(GOLDEN, 'after_step.safetensors'));
  // The grads are keyed by the adapter-file names: the three name sets must be the same.
  const names = Object.keys(golden.grads).sort();
  assert.deepEqual([...start.keys()].sort(), names);
  assert.deepEqual([...after.keys()].sort(), names);
  assert.deepEqual([...golden.trainable].sort(), names);
  assert.equal(names.length, 10);
  assert.equal(golden.optimizer.name, 'AdamW');

  const params = vars(Object.fromEntries([...start].map(([k, v]) => [k, v])));
  const plan: OptimizerPlan = {
    name: 'adamw',
    lr: golden.optimizer.lr,
    betas: golden.optimizer.betas,
    eps: golden.optimizer.eps,
    weightDecay: golden.optimizer.weight_decay,
    momentum: 0,
    groups: [],
  };
  const opt = createOptimizer(plan, params);
  const grads = new Map<string, tf.Tensor>();
  for (const [k, g] of Object.entries(golden.grads)) {
    assert.deepEqual(g.shape, start.get(k)!.shape, `${k} grad shape`);
    grads.set(k, tf.tensor(g.data, g.shape, 'float32'));
  }
  opt.step(grads);
  disposeMap(grads);
  assert.equal(opt.stepCount, 1);

  let moved = 0;
  for (const name of names) {
    const got = params.get(name)!.dataSync();
    const want = after.get(name)!.data;
    // README tolerance for float32 goldens: |a − b| ≤ 1e-4·|b| + 1e-5.
    assertClose(got, want, 1e-4, 1e-5, name);
    // Each element moved by about lr·sign(g): the step really happened.
    const before = start.get(name)!.data;
    for (let i = 0; i < want.length; i++) moved = Math.max(moved, Math.abs(got[i]! - before[i]!));
  }
  assert.ok(moved > 0.009 && moved < 0.0101, `largest move ${moved}`);
  opt.dispose();
  for (const v of params.values()) v.dispose();
});

test('AdamW decouples weight decay: p ← p·(1 − lr·wd), then the Adam move', () => {
  // lr 0.1, wd 0.5, betas (0.5, 0.75), eps 0, constant g = 2:
  //   t=1: m = 0.5·2 = 1, v = 0.25·4 = 1; m̂ = 1/0.5 = 2, v̂ = 1/0.25 = 4 → move 0.1·2/2 = 0.1
  //        p = 1·(1 − 0.05) − 0.1 = 0.85
  //   t=2: m = 0.5·1 + 0.5·2 = 1.5, m̂ = 1.5/0.75 = 2; v = 0.75·1 + 0.25·4 = 1.75, v̂ = 1.75/0.4375 = 4 → 0.1
  //        p = 0.85·0.95 − 0.1 = 0.7075
  const params = vars({ w: [1] });
  const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.5, betas: [0.5, 0.75], eps: 0 });
  const g = gradMap({ w: [2] });
  opt.step(g);
  assertClose(values(params.get('w')!), [0.85]);
  opt.step(g);
  assertClose(values(params.get('w')!), [0.7075]);
  disposeMap(g);
  opt.dispose();
});

test('AdamW and Adam differ only in how weight decay enters', () => {
  // Without decay they are the same algorithm, bit for bit.
  const a = vars({ w: [0.3, -1.2, 2] });
  const b = vars({ w: [0.3, -1.2, 2] });
  const oa = new AdamW(a, { lr: 0.01, weightDecay: 0 });
  const ob = new Adam(b, { lr: 0.01 });
  for (let s = 0; s < 5; s++) {
    const g = gradMap({ w: [Math.sin(s), 0.1 * s - 0.2, -1] });
    oa.step(g);
    ob.step(g);
    disposeMap(g);
  }
  assert.deepEqual(values(a.get('w')!), values(b.get('w')!));
  oa.dispose();
  ob.dispose();
});

test('eps is added after the bias-corrected square root (torch placement)', () => {
  // First step: m̂ = g, sqrt(v̂) = |g|, so the move is lr·g/(|g| + eps). g = eps = 1e-3 → lr·0.5.
  const params = vars({ w: [1] });
  const opt = new AdamW(params, { lr: 0.1, weightDecay: 0, eps: 1e-3 });
  const g = gradMap({ w: [1e-3] });
  opt.step(g);
  assertClose(values(params.get('w')!), [1 - 0.05], 1e-6);
  disposeMap(g);
  opt.dispose();
});

test('AdamW uses torch defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2', () => {
  const params = vars({ w: [2] });
  const opt = new AdamW(params);
  const g = gradMap({ w: [0.5] });
  opt.step(g);
  // 2·(1 − 1e-3·1e-2) − 1e-3·0.5/(0.5 + 1e-8)
  assertClose(values(params.get('w')!), [2 * (1 - 1e-5) - (1e-3 * 0.5) / (0.5 + 1e-8)]);
  disposeMap(g);
  opt.dispose();
});
