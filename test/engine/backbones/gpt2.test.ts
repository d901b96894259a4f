import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone } from '../../../src/engine/backbones/index.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { functionMisfit, type ModulePlan } from '../../../src/plan/index.js';
import { checkParity, fixtureInputs, onWasm } from './parity.js';

const dir = fixture('models', 'gpt2');

function withAttachments(entries: [string, Attachment][], positionOffset = 0): ForwardContext {
  const map = new Map<string, Attachment[]>();
  for (const [k, a] of entries) map.set(k, [...(map.get(k) ?? []), a]);
  return new ForwardContext(map, { training: false, positionOffset });
}

test('GPT-2 matches transformers: logits, last and every hidden state, causal-LM loss (padding row included)', { skip: SKIP_NO_SHARED }, async (t) => {
  await useBackend();
  const { model } = checkParity(t, 'gpt2', 'causal-lm', 'GPT2LMHeadModel');
  assert.deepEqual(model.tied, { 'lm_head.weight': 'transformer.wte.weight' });
  assert.ok(!model.root.namedParams().some(([n]) => n.startsWith('lm_head')), 'lm_head is tied, not a parameter');
});

test('GPT-2 on the wasm backend matches transformers', { skip: SKIP_NO_SHARED }, async (t) => {
  await onWasm(t, () => {
    checkParity(t, 'gpt2', 'causal-lm', 'GPT2LMHeadModel');
  });
});

test('GPT-2 sites: the fused c_attn is self_attn.qkv, q/k/v are its slices, linear sites at HF module paths', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'causal-lm' });
  const l0 = model.sites.filter((s) => s.layer === 0);
  const byPos = new Map(l0.map((s) => [s.position, s]));
  assert.deepEqual(byPos.get('self_attn.qkv'), {
    path: 'transformer.h.0.attn.c_attn', stack: 'model', layer: 0, position: 'self_attn.qkv', kind: 'linear', inDim: 32, outDim: 96,
  });
  for (const p of ['query', 'key', 'value']) {
    const s = byPos.get(`self_attn.${p}`)!;
    assert.equal(s.kind, 'activation', p);
    assert.equal(s.inDim, 32);
    assert.equal(s.outDim, 32);
  }
  const linear = l0.filter((s) => s.kind === 'linear').map((s) => s.path);
  assert.deepEqual(linear, ['transformer.h.0.attn.c_attn', 'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_fc', 'transformer.h.0.mlp.c_proj']);
  const modules = new Set(model.root.namedModules().map(([n]) => n));
  for (const p of linear) assert.ok(modules.has(p), `${p} is not a module`);
  assert.deepEqual(l0.filter((s) => s.kind === 'linear').map((s) => s.position), ['self_attn.qkv', 'self_attn.out_proj', 'ffn.up_proj', 'ffn.down_proj']);
  for (const p of ['self_attn.heads', 'self_attn.output', 'ffn.input', 'ffn.intermediate', 'ffn.output', 'block.output']) assert.ok(byPos.has(p), p);
  assert.deepEqual(model.sites.filter((s) => s.layer < 0).map((s) => s.position), ['embeddings', 'embeddings.output']);
  assert.equal(new Set(model.sites.map((s) => s.path)).size, model.sites.length, 'site paths are unique');
});

test('GPT-2 slices take additive functions only; weight-level ones are refused with the reason', () => {
  const at = (fn: string, options: Record<string, unknown> = {}) => ({ function: fn, heads: 'single', options } as unknown as ModulePlan);
  assert.equal(functionMisfit(at('lowrank'), 'self_attn.query', 'activation'), null);
  assert.equal(functionMisfit(at('scaling'), 'self_attn.value', 'activation'), null);
  for (const fn of ['hadamard', 'svd'] as const) {
    assert.match(functionMisfit(at(fn), 'self_attn.query', 'activation') ?? '', /slice of a fused.*attn\.qkv/);
  }
  assert.match(functionMisfit(at('lowrank', { dora: true }), 'self_attn.key', 'activation') ?? '', /slice of a fused.*attn\.qkv/);
  assert.equal(functionMisfit(at('hadamard'), 'self_attn.qkv', 'linear'), null);
});

test('GPT-2 `self_attn.query` slice site: x is the c_attn input, h the query third of its output', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'causal-lm' });
  const { inputs } = fixtureInputs('gpt2');
  const base = model.forward(inputs, ForwardContext.plain(false)).logits.dataSync();
  const seen: number[][] = [];
  const identity = withAttachments([['transformer.h.0.attn.query', { transform: (x, h) => (seen.push([...x.shape, ...h.shape]), h) }]]);
  assert.deepEqual(model.forward(inputs, identity).logits.dataSync(), base);
  assert.deepEqual(seen, [[2, 8, 32, 2, 8, 32]]);
  // doubling the value slice equals doubling the value third of c_attn's output
  const viaSlice = model.forward(inputs, withAttachments([['transformer.h.1.attn.value', { transform: (_x, h) => tf.mul(h, 2) }]])).logits;
  const scale = tf.concat([tf.ones([64]), tf.fill([32], 2)]);
  const viaQkv = model.forward(inputs, withAttachments([['transformer.h.1.attn.c_attn', { transform: (_x, h) => tf.mul(h, scale) }]])).logits;
  assertClose(viaSlice, { shape: viaQkv.shape, data: Array.from(viaQkv.dataSync()) }, 'value slice');
});

test('a Python peft LoRA adapter on c_attn (fan_in_fan_out) reproduces its logits', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'causal-lm' });
  const { peft, type, warnings } = loadAdapter(fixture('peft', 'gpt2-lora'), model);
  assert.equal(type, 'LORA');
  assert.deepEqual(warnings, []);
  assert.deepEqual(peft.modules[0].sites.map((s) => s.path), ['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
  const out = model.forward(fixtureInputs('gpt2').inputs, peft.context({ training: false }));
  assertClose(out.logits, readJson(fixture('peft', 'gpt2-lora'), 'outputs.json').logits, 'logits');
});

test('GPT-2 IA³ at the sites peft uses (c_attn output, mlp.c_proj input = ffn.intermediate) matches Python peft', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const pdir = fixture('peft', 'gpt2-ia3');
  const st = openSafetensors(`${pdir}/adapter_model.safetensors`);
  const { model } = loadBackbone(dir, { task: 'causal-lm' });
  const l = (n: string) => tf.reshape(tf.tensor(st.read(`base_model.model.${n}.ia3_l`)), [-1]);
  const entries: [string, Attachment][] = [];
  for (const i of [0, 1]) {
    const qkv = l(`transformer.h.${i}.attn.c_attn`);
    const ff = l(`transformer.h.${i}.mlp.c_proj`);
    entries.push([`transformer.h.${i}.attn.c_attn`, { transform: (_x, h) => tf.mul(h, qkv) }]);
    entries.push([`transformer.h.${i}.mlp.intermediate`, { transform: (_x, h) => tf.mul(h, ff) }]);
  }
  const out = model.forward(fixtureInputs('gpt2').inputs, withAttachments(entries));
  assertClose(out.logits, readJson(pdir, 'outputs.json').logits, 'logits');
});

test('GPT-2 `embeddings`: a prompt prepended there (positions 0–4) matches Python peft prompt tuning', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const pdir = fixture('peft', 'gpt2-prompt_tuning');
  const st = openSafetensors(`${pdir}/adapter_model.safetensors`);
  const { model } = loadBackbone(dir, { task: 'causal-lm' });
  const prompt = tf.tensor(st.read('prompt_embeddings'), [5, 32]);
  const ctx = withAttachments([['transformer.embeddings.input', { prepend: (B) => tf.tile(tf.expandDims(prompt, 0), [B, 1, 1]) as tf.Tensor3D }]]);
  const out = model.forward(fixtureInputs('gpt2').inputs, ctx);
  assert.deepEqual(out.logits.shape, [2, 13, 100]);
  assertClose(out.logits, readJson(pdir, 'outputs.json').logits, 'logits');
});

test('GPT-2 `self_attn.heads` + position offset: prefixes match Python peft prefix tuning', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const pdir = fixture('peft', 'gpt2-prefix_tuning');
  const st = openSafetensors(`${pdir}/adapter_model.safetensors`);
  const { model } = loadBackbone(dir, { task: 'causal-lm' });
  const kv = tf.transpose(tf.reshape(tf.tensor(st.read('prompt_embeddings'), [5, 128]), [5, 4, 4, 8]), [1, 2, 0, 3]);
  const slot = (i: number, B: number) => tf.tile(tf.slice(kv, [i, 0, 0, 0], [1, -1, -1, -1]), [B, 1, 1, 1]) as tf.Tensor4D;
  const heads = model.sites.filter((s) => s.position === 'self_attn.heads');
  const ctx = withAttachments(heads.map((s) => [s.path, { prefix: (B) => ({ key: slot(2 * s.layer, B), value: slot(2 * s.layer + 1, B) }) }]), 5);
  assertClose(model.forward(fixtureInputs('gpt2').inputs, ctx).logits, readJson(pdir, 'outputs.json').logits, 'logits');
});

test('GPT-2 heads: score (no bias, last real token) for seq-cls, classifier per token for token-cls', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model, report } = loadBackbone(dir, { task: 'seq-cls', numLabels: 3 });
  assert.equal(model.architecture, 'GPT2ForSequenceClassification');
  assert.deepEqual(report.initialized, ['score.weight']);
  assert.deepEqual(model.headPrefixes, ['score']);
  const { inputs } = fixtureInputs('gpt2');
  const out = model.forward(inputs, ForwardContext.plain(false));
  assert.deepEqual(out.logits.shape, [2, 3]);
  // row 1 has 5 real tokens: its logits are the score of position 4
  const w = model.root.namedParams().find(([n]) => n === 'score.weight')![1].value;
  const at4 = tf.matMul(tf.reshape(tf.slice(out.lastHidden, [1, 4, 0], [1, 1, -1]), [1, 32]) as tf.Tensor2D, w as tf.Tensor2D, false, true);
  assertClose(tf.slice(out.logits, [1, 0], [1, 3]), { shape: [1, 3], data: Array.from(at4.dataSync()) }, 'pooled row 1');
  const { model: tok } = buildBackbone(dir, { task: 'token-cls', numLabels: 5 });
  assert.equal(tok.architecture, 'GPT2ForTokenClassification');
  assert.deepEqual(tok.root.namedParams().filter(([n]) => n.startsWith('classifier')).map(([n, p]) => [n, p.shape]),
    [['classifier.weight', [5, 32]], ['classifier.bias', [5]]]);
});

test('GPT-2 dropout (attn/resid/embd pdrop) is active in training only, and inputs past n_positions are refused', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'causal-lm' });
  const { inputs } = fixtureInputs('gpt2');
  const a = model.forward(inputs, ForwardContext.plain(false)).logits.dataSync();
  const t1 = model.forward(inputs, new ForwardContext(new Map(), { training: true, seed: 1 })).logits.dataSync();
  const t1again = model.forward(inputs, new ForwardContext(new Map(), { training: true, seed: 1 })).logits.dataSync();
  assert.notDeepEqual(Array.from(t1), Array.from(a));
  assert.deepEqual(t1, t1again);
  const long = tf.zeros([1, 65], 'int32') as tf.Tensor2D;
  assert.throws(() => model.forward({ inputIds: long }, ForwardContext.plain(false)), /exceeds the 64 learned positions/);
});
