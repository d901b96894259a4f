// HFT (half fine-tuning): no authors' code exists, so the rule's invariants
// (test/fixtures/reference/hft/README.md) are checked on the drawn sets: per layer 2 of the 4
// attention matrices, the FFN's 3 matrices 2-or-1 in halves of the layers, 1 of the 2 norms, whole
// tensors only, exactly half of the layers' parameters on an MHA backbone with an even depth;
// nothing changes at step 0; frozen tensors stay bit for bit; the trained half moves exactly as
// full fine-tuning moves it; a new round draws afresh and keeps what earlier rounds trained; the
// draw is the seed's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, useBackend } from '../../helpers/fixtures.js';
import { buildBackbone, loadBackbone, type TaskModel } from '../../../src/engine/backbones/index.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { AdamW } from '../../../src/engine/train/optim/index.js';
import { compileMethod, type MethodPlan } from '../../../src/plan/index.js';
import { normalArray } from '../../../src/engine/random.js';

const STORIES = join(REPO, 'assets', 'models', 'stories260K');

function method(select: Record<string, unknown> = {}): MethodPlan {
  const issues: string[] = [];
  const m = compileMethod({ preset: 'hft', select, train_head: false }, { family: null, depth: null, task: 'causal-lm' }, (p, msg) => issues.push(`${p.join('.')}: ${msg}`));
  assert.deepEqual(issues, []);
  return m;
}

/** A LLaMA with multi-head attention and an even depth (shapes only, then random weights). */
function evenMha(): TaskModel {
  const dir = mkdtempSync(join(tmpdir(), 'peft-hft-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 32, intermediate_size: 64, num_hidden_layers: 4,
    num_attention_heads: 4, num_key_value_heads: 4, vocab_size: 64, max_position_embeddings: 64, rms_norm_eps: 1e-6, tie_word_embeddings: false,
  }));
  const { model } = buildBackbone(dir, { task: 'causal-lm' });
  model.root.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 0.05, 100 + i), [...p.shape])));
  return model;
}

const layerOf = (name: string) => Number(/\.layers\.(\d+)\./.exec(name)?.[1] ?? -1);

test('hft: per layer 2 of 4 attention matrices, FFN 2 in half of the layers and 1 in the others, 1 of 2 norms; exactly half of the layers\' parameters', async () => {
  await useBackend();
  const model = evenMha();
  const peft = injectMethod(model, method(), 0);
  const chosen = new Set(peft.selection!.whole);
  const layerParams = model.root.namedParams().filter(([n]) => layerOf(n) >= 0);
  const ffnCounts: number[] = [];
  for (let l = 0; l < 4; l++) {
    const mine = layerParams.filter(([n]) => layerOf(n) === l && chosen.has(n)).map(([n]) => n);
    assert.equal(mine.filter((n) => /self_attn\.(q|k|v|o)_proj/.test(n)).length, 2, `layer ${l}: attention`);
    ffnCounts.push(mine.filter((n) => /mlp\.(gate|up|down)_proj/.test(n)).length);
    assert.equal(mine.filter((n) => /layernorm/.test(n)).length, 1, `layer ${l}: norms`);
  }
  assert.deepEqual([...ffnCounts].sort(), [1, 1, 2, 2]);
  const total = layerParams.reduce((n, [, p]) => n + p.size, 0);
  const trained = layerParams.filter(([n]) => chosen.has(n)).reduce((n, [, p]) => n + p.size, 0);
  assert.equal(trained * 2, total, 'half of the decoder layers\' parameters');
  // whole tensors only, nothing outside the layers, no new parameters
  assert.ok([...chosen].every((n) => layerOf(n) >= 0));
  assert.equal(peft.store.namedParams().length, 0);
  const trainable = selectTrainable(peft);
  assert.deepEqual([...trainable.params.keys()].sort(), [...chosen].sort());
});

test('hft: stories260K (GQA, 5 layers): the FFN takes 2 matrices in ⌊5/2⌋ layers; step 0 is the base model', async () => {
  await useBackend();
  const { model } = loadBackbone(STORIES, { task: 'causal-lm' });
  const peft = injectMethod(model, method(), 0);
  const chosen = new Set(peft.selection!.whole);
  const ffn = [0, 1, 2, 3, 4].map((l) => [...chosen].filter((n) => layerOf(n) === l && /mlp\./.test(n)).length);
  assert.equal(ffn.filter((c) => c === 2).length, 2);
  assert.equal(ffn.filter((c) => c === 1).length, 3);
  const ids = tf.tensor2d([[1, 5, 9, 30, 41, 2]], [1, 6], 'int32');
  const a = tf.tidy(() => model.forward({ inputIds: ids }, peft.context({ training: false })).logits.dataSync());
  selectTrainable(peft);
  const b = tf.tidy(() => model.forward({ inputIds: ids }, peft.context({ training: false })).logits.dataSync());
  assert.deepEqual(b, a);
});

test('hft: frozen tensors stay bit for bit; the trained half moves exactly as full fine-tuning moves those tensors', async () => {
  await useBackend();
  const ids = tf.tensor2d([[3, 17, 9, 40, 22, 11, 5, 60]], [1, 8], 'int32');
  const loss = (m: TaskModel, ctx: ReturnType<ReturnType<typeof injectMethod>['context']>) => {
    const logits = m.forward({ inputIds: ids }, ctx).logits as tf.Tensor3D;
    return tf.mean(tf.square(logits)) as tf.Scalar;
  };
  const run = (plan: MethodPlan) => {
    const model = evenMha();
    const before = new Map(model.root.namedParams().map(([n, p]) => [n, Float32Array.from(p.value.dataSync())]));
    const peft = injectMethod(model, plan, 0);
    const trainable = selectTrainable(peft);
    const vars = new Map([...trainable.params].map(([n, p]) => [n, p.variable]));
    const nameOf = new Map([...vars].map(([n, v]) => [v.name, n]));
    const opt = new AdamW(vars, { lr: 1e-2, weightDecay: 0.01 });
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(() => loss(model, peft.context({ training: true })), [...vars.values()]);
      value.dispose();
      const byName = new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g]));
      opt.step(byName);
      byName.forEach((g) => g.dispose());
    }
    const state = opt.state();
    opt.dispose();
    return { model, before, peft, trainable, state };
  };
  const hft = run(method());
  const chosen = new Set(hft.peft.selection!.whole);
  for (const [n, p] of hft.model.root.namedParams()) {
    if (chosen.has(n)) assert.notDeepEqual(p.value.dataSync(), hft.before.get(n), `${n} trained`);
    else assert.deepEqual(p.value.dataSync(), hft.before.get(n), `${n} frozen bit for bit`);
  }
  assert.deepEqual(Object.keys(hft.state.params).sort(), [...chosen].sort(), 'optimizer state for the trained half only');
  // full fine-tuning restricted to the same tensors: one AdamW step is per tensor, so with the
  // same gradients (the forward uses every tensor either way) the first step is identical
  const ft = (() => {
    const model = evenMha();
    const peft = injectMethod(model, { preset: 'custom', modules: [], unfreeze: [], trainHead: false }, 0);
    for (const [n, p] of model.root.namedParams()) if (chosen.has(n)) p.makeTrainable();
    const vars = new Map(model.root.namedParams().filter(([n]) => chosen.has(n)).map(([n, p]) => [n, p.variable]));
    const nameOf = new Map([...vars].map(([n, v]) => [v.name, n]));
    const opt = new AdamW(vars, { lr: 1e-2, weightDecay: 0.01 });
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(() => loss(model, peft.context({ training: true })), [...vars.values()]);
      value.dispose();
      const byName = new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g]));
      opt.step(byName);
      byName.forEach((g) => g.dispose());
    }
    opt.dispose();
    return model;
  })();
  const ftParams = new Map(ft.root.namedParams());
  for (const n of chosen) assert.deepEqual(hft.model.root.namedParams().find(([x]) => x === n)![1].value.dataSync(), ftParams.get(n)!.value.dataSync(), n);
});

test('hft: rounds draw afresh; a tensor out of the current round keeps the value its last round left', async () => {
  await useBackend();
  const model = evenMha();
  const peft = injectMethod(model, method({ rounds: 2 }), 0);
  const sel = peft.selection!;
  assert.equal(sel.rounds.length, 2);
  assert.notDeepEqual(sel.rounds[0], sel.rounds[1], 'the second round draws another half');
  assert.deepEqual(new Set(sel.whole), new Set(sel.rounds.flat()));
  const trainable = selectTrainable(peft);
  const vars = new Map([...trainable.params].map(([n, p]) => [n, p.variable]));
  const nameOf = new Map([...vars].map(([n, v]) => [v.name, n]));
  const opt = new AdamW(vars, { lr: 1e-2, weightDecay: 0 });
  const ids = tf.tensor2d([[3, 17, 9, 40]], [1, 4], 'int32');
  const snapshot = () => new Map(model.root.namedParams().map(([n, p]) => [n, Float32Array.from(p.value.dataSync())]));
  const total = 4;
  let atRoundEnd = snapshot();
  for (let step = 0; step < total; step++) {
    if (step === 2) atRoundEnd = snapshot();
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward({ inputIds: ids }, peft.context({ training: true })).logits)) as tf.Scalar, [...vars.values()]);
    value.dispose();
    const named = peft.adjustGrads(new Map(Object.entries(grads).map(([k, g]) => [nameOf.get(k)!, g])), {
      step, totalSteps: total, micro: 0, batch: null as never, task: null as never, context: () => peft.context({ training: true }),
    });
    assert.deepEqual([...named.keys()].sort(), [...sel.rounds[sel.roundAt(step, total)]].sort(), `step ${step}: only the round's tensors get gradients`);
    opt.step(named);
    named.forEach((g) => g.dispose());
  }
  opt.dispose();
  const end = snapshot();
  const second = new Set(sel.rounds[1]);
  for (const n of sel.rounds[0]) if (!second.has(n)) assert.deepEqual(end.get(n), atRoundEnd.get(n), `${n}: kept its first-round value`);
});

test('hft: the draw is the seed\'s (same seed, same half; another seed, another half)', async () => {
  await useBackend();
  const model = evenMha();
  const a = injectMethod(model, method(), 7).selection!.whole;
  const b = injectMethod(model, method(), 7).selection!.whole;
  const c = injectMethod(model, method(), 8).selection!.whole;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});
