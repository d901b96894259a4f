import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, type TaskModel, type ModelInputs } from '../../../src/engine/backbones/index.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { ensureGradients } from '../../../src/engine/backend/index.js';
import { crossEntropy } from '../../../src/engine/train/losses.js';

const dir = fixture('models', 'bert');

function bertInputs(): ModelInputs {
  const inputs = readJson(dir, 'inputs.json');
  return {
    inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D,
    tokenTypeIds: toTensor(inputs.token_type_ids, 'int32') as tf.Tensor2D,
  };
}

function setParam(model: TaskModel, name: string, value: tf.Tensor): void {
  const p = model.root.namedParams().find(([n]) => n === name);
  assert.ok(p, `no parameter ${name}`);
  p[1].set(value);
}

function withAttachments(entries: [string, Attachment][], positionOffset = 0): ForwardContext {
  const map = new Map<string, Attachment[]>();
  for (const [k, a] of entries) map.set(k, [...(map.get(k) ?? []), a]);
  return new ForwardContext(map, { training: false, positionOffset });
}

test('BERT matches transformers: logits, pooler, last and every hidden state (padding row included)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const outputs = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task: 'seq-cls' });
  assert.equal(model.architecture, 'BertForSequenceClassification');
  assert.deepEqual(report.unused, []);
  assert.deepEqual(report.initialized, []);
  const out = model.forward(bertInputs(), ForwardContext.plain(false), { hiddenStates: true });
  assertClose(out.logits, outputs.logits, 'logits');
  assertClose(out.pooled!, outputs.pooler_output, 'pooler_output');
  assertClose(out.lastHidden, outputs.last_hidden_state, 'last_hidden_state');
  assert.equal(out.hiddenStates!.length, outputs.hidden_states.length);
  out.hiddenStates!.forEach((h, i) => assertClose(h, outputs.hidden_states[i], `hidden_states[${i}]`));
});

test('BERT sites: every unified-view position, linear sites at HF module paths', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'seq-cls' });
  const positions = new Set(model.sites.map((s) => s.position));
  for (const p of ['embeddings', 'embeddings.output', 'self_attn.query', 'self_attn.key', 'self_attn.value', 'self_attn.heads',
    'self_attn.out_proj', 'self_attn.output', 'ffn.input', 'ffn.up_proj', 'ffn.intermediate', 'ffn.down_proj', 'ffn.output', 'block.output']) {
    assert.ok(positions.has(p), `missing ${p}`);
  }
  const modules = new Set(model.root.namedModules().map(([n]) => n));
  const linear = model.sites.filter((s) => s.kind === 'linear' && s.layer === 0).map((s) => s.path);
  assert.deepEqual(linear, [
    'bert.encoder.layer.0.attention.self.query', 'bert.encoder.layer.0.attention.self.key', 'bert.encoder.layer.0.attention.self.value',
    'bert.encoder.layer.0.attention.output.dense', 'bert.encoder.layer.0.intermediate.dense', 'bert.encoder.layer.0.output.dense',
  ]);
  for (const p of linear) assert.ok(modules.has(p), `${p} is not a module`);
  assert.equal(new Set(model.sites.map((s) => s.path)).size, model.sites.length, 'site paths are unique');
  assert.deepEqual(model.sites.filter((s) => s.layer < 0).map((s) => s.path), ['bert.embeddings.input', 'bert.embeddings.output']);
  assert.deepEqual(model.headPrefixes, ['classifier']);
});

test('BERT `embeddings`: a prompt prepended there matches Python peft prompt tuning', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const pdir = fixture('peft', 'bert-prompt_tuning');
  const st = openSafetensors(`${pdir}/adapter_model.safetensors`);
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  setParam(model, 'classifier.weight', tf.tensor(st.read('base_model.classifier.weight'), [3, 32]));
  setParam(model, 'classifier.bias', tf.tensor(st.read('base_model.classifier.bias'), [3]));
  const prompt = tf.tensor(st.read('prompt_embeddings'), [5, 32]);
  const ctx = withAttachments([['bert.embeddings.input', { prepend: (B) => tf.tile(tf.expandDims(prompt, 0), [B, 1, 1]) as tf.Tensor3D }]]);
  const out = model.forward(bertInputs(), ctx);
  assertClose(out.logits, readJson(pdir, 'outputs.json').logits, 'logits');
  assert.deepEqual(out.attentionMask!.shape, [2, 13]);
});

test('BERT `self_attn.heads` + position offset: prefixes match Python peft prefix tuning', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const pdir = fixture('peft', 'bert-prefix_tuning');
  const st = openSafetensors(`${pdir}/adapter_model.safetensors`);
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  setParam(model, 'classifier.weight', tf.tensor(st.read('base_model.classifier.weight'), [3, 32]));
  setParam(model, 'classifier.bias', tf.tensor(st.read('base_model.classifier.bias'), [3]));
  // [5, L·2·D] → [L·2, H, 5, D/H]: layer l's keys are slot 2l, its values slot 2l + 1
  const kv = tf.transpose(tf.reshape(tf.tensor(st.read('prompt_embeddings'), [5, 128]), [5, 4, 4, 8]), [1, 2, 0, 3]);
  const slot = (i: number, B: number) => tf.tile(tf.slice(kv, [i, 0, 0, 0], [1, -1, -1, -1]), [B, 1, 1, 1]) as tf.Tensor4D;
  const heads = model.sites.filter((s) => s.position === 'self_attn.heads');
  assert.equal(heads.length, 2);
  const ctx = withAttachments(heads.map((s) => [s.path, { prefix: (B) => ({ key: slot(2 * s.layer, B), value: slot(2 * s.layer + 1, B) }) }]), 5);
  assertClose(model.forward(bertInputs(), ctx).logits, readJson(pdir, 'outputs.json').logits, 'logits');
});

test('BERT `embeddings.output`: a prompt prepended there matches AdapterHub prompt tuning', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const adir = fixture('adapters', 'bert-prompt_tuning');
  const st = openSafetensors(`${adir}/adapter.safetensors`);
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  const prompt = tf.tensor(st.read('bert.prompt_tuning.prompt_tunings.fixture.prompt_embedding.weight'), [5, 32]);
  const ctx = withAttachments([['bert.embeddings.output', { prepend: (B) => tf.tile(tf.expandDims(prompt, 0), [B, 1, 1]) as tf.Tensor3D }]]);
  assertClose(model.forward(bertInputs(), ctx).logits, readJson(adir, 'outputs.json').logits, 'logits');
});

/** AdapterHub's bottleneck `Up(act(Down(v)))` from its file, for layer `l` at `where` (attention.output / output). */
function bottleneck(st: ReturnType<typeof openSafetensors>, l: number, where: string, act: (t: tf.Tensor) => tf.Tensor) {
  const base = `bert.encoder.layer.${l}.${where}.adapters.fixture`;
  const t = (n: string) => tf.tensor(st.read(`${base}.${n}`), st.info(`${base}.${n}`).shape);
  const [dw, db, uw, ub] = [t('adapter_down.0.weight'), t('adapter_down.0.bias'), t('adapter_up.weight'), t('adapter_up.bias')];
  return (v: tf.Tensor) => {
    const down = act(tf.add(tf.matMul(tf.reshape(v, [-1, 32]) as tf.Tensor2D, dw as tf.Tensor2D, false, true), db));
    return tf.reshape(tf.add(tf.matMul(down as tf.Tensor2D, uw as tf.Tensor2D, false, true), ub), v.shape);
  };
}

test('BERT `self_attn.output` and `ffn.output` (sequential, h before residual+LN) match AdapterHub double_seq_bn', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const adir = fixture('adapters', 'bert-double_seq_bn');
  const st = openSafetensors(`${adir}/adapter.safetensors`);
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  const swish = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));
  const entries: [string, Attachment][] = [];
  for (const s of model.sites.filter((s) => s.position === 'self_attn.output' || s.position === 'ffn.output')) {
    const f = bottleneck(st, s.layer, s.position === 'ffn.output' ? 'output' : 'attention.output', swish);
    entries.push([s.path, { transform: (_x, h) => tf.add(h, f(h)) }]);
  }
  assert.equal(entries.length, 4);
  assertClose(model.forward(bertInputs(), withAttachments(entries)).logits, readJson(adir, 'outputs.json').logits, 'logits');
});

test('BERT `ffn.output` parallel (x = the FFN input) matches AdapterHub par_bn', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const adir = fixture('adapters', 'bert-par_bn');
  const st = openSafetensors(`${adir}/adapter.safetensors`);
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  const entries: [string, Attachment][] = model.sites.filter((s) => s.position === 'ffn.output').map((s) => {
    const f = bottleneck(st, s.layer, 'output', (t) => tf.relu(t));
    return [s.path, { transform: (x, h) => tf.add(h, tf.mul(f(x), 4)) }];
  });
  assertClose(model.forward(bertInputs(), withAttachments(entries)).logits, readJson(adir, 'outputs.json').logits, 'logits');
});

test('BERT dropout is active in training only, with the config rates', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  const inputs = bertInputs();
  const a = model.forward(inputs, ForwardContext.plain(false)).logits.dataSync();
  const b = model.forward(inputs, ForwardContext.plain(false)).logits.dataSync();
  assert.deepEqual(a, b);
  const t1 = model.forward(inputs, new ForwardContext(new Map(), { training: true, seed: 1 })).logits.dataSync();
  const t1again = model.forward(inputs, new ForwardContext(new Map(), { training: true, seed: 1 })).logits.dataSync();
  assert.notDeepEqual(Array.from(t1), Array.from(a));
  assert.deepEqual(t1, t1again, 'the same seed gives the same masks');
});

test('BERT token classification: a classifier on every token, no pooler (BertForTokenClassification)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model, report } = loadBackbone(dir, { task: 'token-cls' });
  assert.equal(model.architecture, 'BertForTokenClassification');
  assert.deepEqual(report.unused.sort(), ['bert.pooler.dense.bias', 'bert.pooler.dense.weight']);
  const out = model.forward(bertInputs(), ForwardContext.plain(false));
  assert.deepEqual(out.logits.shape, [2, 8, 3]);
  assertClose(out.lastHidden, readJson(dir, 'outputs.json').last_hidden_state, 'last_hidden_state');
  const { model: reg } = buildBackbone(dir, { task: 'regression' });
  assert.deepEqual(reg.root.namedParams().find(([n]) => n === 'classifier.weight')![1].shape, [1, 32]);
});

test('BERT backward: LoRA at query/value + classifier gradients match the peft training golden', { skip: SKIP_NO_SHARED }, async () => {
  await ensureGradients();
  await useBackend();
  const pdir = fixture('peft', 'bert-lora');
  const golden = readJson(pdir, 'grads.json');
  const st = openSafetensors(`${pdir}/adapter_model.safetensors`);
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  const file = (n: string) => tf.tensor(st.read(`base_model.model.${n}`), st.info(`base_model.model.${n}`).shape);
  setParam(model, 'classifier.weight', file('classifier.weight'));
  setParam(model, 'classifier.bias', file('classifier.bias'));
  const head = model.root.namedParams().filter(([n]) => n.startsWith('classifier.'));
  for (const [, p] of head) p.makeTrainable();
  const vars = new Map<string, tf.Variable>(head.map(([n, p]) => [`base_model.model.${n}`, p.variable]));
  const entries: [string, Attachment][] = [];
  for (const s of model.sites.filter((s) => s.position === 'self_attn.query' || s.position === 'self_attn.value')) {
    const a = tf.variable(file(`${s.path}.lora_A.weight`));
    const b = tf.variable(file(`${s.path}.lora_B.weight`));
    vars.set(`base_model.model.${s.path}.lora_A.weight`, a);
    vars.set(`base_model.model.${s.path}.lora_B.weight`, b);
    // y = base(x) + (α/r)·(x Aᵀ) Bᵀ, α/r = 2
    entries.push([s.path, { transform: (x, h) => tf.add(h, tf.mul(tf.reshape(tf.matMul(tf.matMul(tf.reshape(x, [-1, 32]) as tf.Tensor2D, a, false, true), b, false, true), h.shape), 2)) }]);
  }
  const labels = toTensor(golden.labels, 'int32') as tf.Tensor1D;
  const names = [...vars.keys()];
  const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(bertInputs(), withAttachments(entries)).logits as tf.Tensor2D, labels), names.map((n) => vars.get(n)!));
  assertClose([value.dataSync()[0]], [golden.loss], 'loss');
  assert.deepEqual(names.sort(), Object.keys(golden.grads).sort());
  for (const n of names) assertClose(grads[vars.get(n)!.name], golden.grads[n], n, 1e-4, 1e-7);
});
