import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, countParams } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { causalLmLoss } from '../../../src/engine/train/losses.js';

test('LLaMA (GQA, untied) matches transformers: logits, hidden states, loss', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const dir = fixture('models', 'llama');
  const inputs = readJson(dir, 'inputs.json');
  const outputs = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task: 'causal-lm' });
  assert.deepEqual(report.unused, []);
  const out = model.forward(
    { inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D, attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D },
    ForwardContext.plain(false),
    { hiddenStates: true },
  );
  assertClose(out.logits, outputs.logits, 'logits');
  assertClose(out.lastHidden, outputs.last_hidden_state, 'last_hidden_state');
  assert.equal(out.hiddenStates!.length, outputs.hidden_states.length);
  out.hiddenStates!.forEach((h, i) => assertClose(h, outputs.hidden_states[i], `hidden_states[${i}]`));
  const loss = causalLmLoss(out.logits as tf.Tensor3D, toTensor(inputs.labels, 'int32') as tf.Tensor2D);
  assertClose([loss.dataSync()[0]], [outputs.loss_with_labels], 'loss');
  assert.ok(countParams(model) > 0);
});
