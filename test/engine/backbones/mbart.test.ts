import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { shiftRight } from '../../../src/engine/backbones/seq2seq.js';
import { checkParity, fixtureInputs, onWasm } from './parity.js';

const dir = fixture('models', 'mbart');

test('mBART matches transformers: pre-LN, final layer_norm per stack, logits, hidden states, loss', { skip: SKIP_NO_SHARED }, async (t) => {
  await useBackend();
  const { model } = checkParity(t, 'mbart', 'seq2seq', 'MBartForConditionalGeneration');
  assert.equal(model.family, 'mbart');
  assert.deepEqual(model.root.namedBuffers().map(([n]) => n), ['final_logits_bias']);
});

test('mBART on the wasm backend matches transformers', { skip: SKIP_NO_SHARED }, async (t) => {
  await onWasm(t, () => {
    checkParity(t, 'mbart', 'seq2seq', 'MBartForConditionalGeneration');
  });
});

test('mBART tree: BART names plus model.encoder.layer_norm and model.decoder.layer_norm', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'seq2seq' });
  const names = model.root.namedParams().map(([n]) => n);
  for (const n of ['model.encoder.layer_norm.weight', 'model.decoder.layer_norm.bias', 'model.encoder.layernorm_embedding.weight',
    'model.decoder.layers.1.encoder_attn_layer_norm.weight', 'model.encoder.embed_positions.weight']) {
    assert.ok(names.includes(n), n);
  }
  assert.deepEqual(model.root.namedParams().find(([n]) => n === 'model.decoder.embed_positions.weight')![1].shape, [66, 32]);
});

test('mBART sequence classification: decoder inputs start with the last real token (the language id)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { inputIds, attentionMask } = fixtureInputs('mbart').inputs;
  assert.deepEqual(Array.from(shiftRight(inputIds!, 1, 2, true).dataSync()), [2, 0, 15, 37, 8, 91, 23, 44, 2, 0, 63, 27, 81, 2, 1, 1]);
  assert.deepEqual(Array.from(shiftRight(tf.tensor2d([[5, 6, 250004, -100]], [1, 4], 'int32'), 1, 2, true).dataSync()), [250004, 5, 6, 250004]);
  const { model } = loadBackbone(dir, { task: 'seq-cls', numLabels: 2 });
  assert.equal(model.architecture, 'MBartForSequenceClassification');
  const out = model.forward({ inputIds, attentionMask }, ForwardContext.plain(false));
  assert.deepEqual(out.logits.shape, [2, 2]);
  const explicit = model.forward({ inputIds, attentionMask, decoderInputIds: shiftRight(inputIds!, 1, 2, true) }, ForwardContext.plain(false));
  assert.deepEqual(explicit.logits.dataSync(), out.logits.dataSync());
});
