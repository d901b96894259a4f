import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, type ModelInputs } from '../../../src/engine/backbones/index.js';
import { robertaPositions } from '../../../src/engine/backbones/roberta.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';

const dir = fixture('models', 'roberta');

function robertaInputs(): ModelInputs {
  const inputs = readJson(dir, 'inputs.json');
  return {
    inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D,
  };
}

function checkParity(): void {
  const outputs = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task: 'seq-cls' });
  assert.equal(model.architecture, 'RobertaForSequenceClassification');
  assert.deepEqual(report.unused, []);
  assert.deepEqual(report.initialized, []);
  assert.deepEqual(model.headPrefixes, ['classifier']);
  const out = model.forward(robertaInputs(), ForwardContext.plain(false), { hiddenStates: true });
  assertClose(out.logits, outputs.logits, 'logits');
  assertClose(out.lastHidden, outputs.last_hidden_state, 'last_hidden_state');
  assert.equal(out.hiddenStates!.length, outputs.hidden_states.length);
  out.hiddenStates!.forEach((h, i) => assertClose(h, outputs.hidden_states[i], `hidden_states[${i}]`));
}

test('RoBERTa matches transformers: logits, last and every hidden state (padding row included)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  checkParity();
});

test('RoBERTa position ids: padding_idx + cumsum over non-pad tokens, pads get padding_idx', async () => {
  await useBackend();
  const ids = tf.tensor2d([[0, 15, 37, 2], [0, 63, 1, 1]], undefined, 'int32');
  assert.deepEqual(Array.from(robertaPositions(ids, 1, 0, 0, 4).ids.dataSync()), [2, 3, 4, 5, 2, 3, 1, 1]);
  // prefix tuning: the past length shifts real tokens only
  assert.deepEqual(Array.from(robertaPositions(ids, 1, 5, 0, 4).ids.dataSync()), [7, 8, 9, 10, 7, 8, 1, 1]);
  // after prepending to the word embeddings HF numbers every position from padding_idx + 1
  const pre = robertaPositions(ids, 1, 0, 2, 6);
  assert.deepEqual(pre.ids.shape, [1, 6]);
  assert.deepEqual(Array.from(pre.ids.dataSync()), [2, 3, 4, 5, 6, 7]);
  assert.equal(pre.last, 7);
});

test('RoBERTa `embeddings`: prepended prompts grow the sequence and the mask', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'seq-cls' });
  const ctx = new ForwardContext(new Map<string, Attachment[]>([['roberta.embeddings.input', [{ prepend: (B) => tf.ones([B, 3, 32]) as tf.Tensor3D }]]]), { training: false });
  const out = model.forward(robertaInputs(), ctx);
  assert.deepEqual(out.lastHidden.shape, [2, 11, 32]);
  assert.deepEqual(Array.from(out.attentionMask!.dataSync()).slice(11), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
});

test('RoBERTa token classification and sites', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model, report } = loadBackbone(dir, { task: 'token-cls' });
  assert.equal(model.architecture, 'RobertaForTokenClassification');
  // the checkpoint's sequence head is not this task's
  assert.deepEqual(report.unused.sort(), ['classifier.dense.bias', 'classifier.dense.weight', 'classifier.out_proj.bias', 'classifier.out_proj.weight']);
  assert.deepEqual(report.initialized.sort(), ['classifier.bias', 'classifier.weight']);
  const out = model.forward(robertaInputs(), ForwardContext.plain(false));
  assert.deepEqual(out.logits.shape, [2, 8, 3]);
  assertClose(out.lastHidden, readJson(dir, 'outputs.json').last_hidden_state, 'last_hidden_state');
  const { model: seq } = buildBackbone(dir, { task: 'seq-cls' });
  assert.deepEqual(seq.sites.filter((s) => s.layer < 0).map((s) => s.path), ['roberta.embeddings.input', 'roberta.embeddings.output']);
  assert.deepEqual(seq.sites.filter((s) => s.kind === 'linear' && s.layer === 0).map((s) => s.path), [
    'roberta.encoder.layer.0.attention.self.query', 'roberta.encoder.layer.0.attention.self.key', 'roberta.encoder.layer.0.attention.self.value',
    'roberta.encoder.layer.0.attention.output.dense', 'roberta.encoder.layer.0.intermediate.dense', 'roberta.encoder.layer.0.output.dense',
  ]);
});

test('RoBERTa on the wasm backend matches transformers too (int32 cumsum of the position ids)', { skip: SKIP_NO_SHARED }, async (t) => {
  try {
    await useBackend('wasm');
  } catch (e) {
    t.skip(`wasm backend does not load: ${(e as Error).message}`);
    return;
  }
  try {
    assert.equal(tf.getBackend(), 'wasm');
    checkParity();
  } finally {
    await useBackend('cpu');
  }
});
