import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, type ModelInputs } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';

const dir = fixture('models', 'distilbert');

function distilInputs(): ModelInputs {
  const inputs = readJson(dir, 'inputs.json');
  return {
    inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D,
  };
}

test('DistilBERT matches transformers: logits, last and every hidden state (padding row included)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const outputs = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task: 'seq-cls' });
  assert.equal(model.architecture, 'DistilBertForSequenceClassification');
  assert.deepEqual(report.unused, []);
  assert.deepEqual(report.initialized, []);
  assert.deepEqual(model.headPrefixes, ['pre_classifier', 'classifier']);
  const out = model.forward(distilInputs(), ForwardContext.plain(false), { hiddenStates: true });
  assertClose(out.logits, outputs.logits, 'logits');
  assertClose(out.lastHidden, outputs.last_hidden_state, 'last_hidden_state');
  assert.equal(out.hiddenStates!.length, outputs.hidden_states.length);
  out.hiddenStates!.forEach((h, i) => assertClose(h, outputs.hidden_states[i], `hidden_states[${i}]`));
});

test('DistilBERT sites at its own module paths', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'seq-cls' });
  assert.deepEqual(model.sites.filter((s) => s.layer === 1).map((s) => [s.position, s.path]), [
    ['self_attn.query', 'distilbert.transformer.layer.1.attention.q_lin'],
    ['self_attn.key', 'distilbert.transformer.layer.1.attention.k_lin'],
    ['self_attn.value', 'distilbert.transformer.layer.1.attention.v_lin'],
    ['self_attn.heads', 'distilbert.transformer.layer.1.attention.heads'],
    ['self_attn.out_proj', 'distilbert.transformer.layer.1.attention.out_lin'],
    ['self_attn.output', 'distilbert.transformer.layer.1.attention.output'],
    ['ffn.input', 'distilbert.transformer.layer.1.ffn.input'],
    ['ffn.up_proj', 'distilbert.transformer.layer.1.ffn.lin1'],
    ['ffn.intermediate', 'distilbert.transformer.layer.1.ffn.intermediate'],
    ['ffn.down_proj', 'distilbert.transformer.layer.1.ffn.lin2'],
    ['ffn.output', 'distilbert.transformer.layer.1.ffn.output'],
    ['block.output', 'distilbert.transformer.layer.1.output'],
  ]);
  assert.deepEqual(model.sites.filter((s) => s.layer < 0).map((s) => s.position), ['embeddings', 'embeddings.output']);
});

test('DistilBERT token classification: dropout + classifier on every token, no pre_classifier', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model, report } = loadBackbone(dir, { task: 'token-cls' });
  assert.equal(model.architecture, 'DistilBertForTokenClassification');
  assert.deepEqual(report.unused.sort(), ['pre_classifier.bias', 'pre_classifier.weight']);
  assert.deepEqual(model.forward(distilInputs(), ForwardContext.plain(false)).logits.shape, [2, 8, 3]);
});
