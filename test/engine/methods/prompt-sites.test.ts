// A prompt prepended at `embeddings.output` (after the embedding module, AdapterHub's place)
// reaches the model on every family that has the site, not only on LLaMA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone } from '../../../src/engine/backbones/index.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import type { ModelInputs } from '../../../src/engine/backbones/types.js';
import { plan } from './helpers.js';

const CASES: [string, 'causal-lm' | 'seq2seq' | 'seq-cls'][] = [['gpt2', 'causal-lm'], ['bart', 'seq2seq'], ['t5', 'seq2seq'], ['bert', 'seq-cls']];

for (const [name, task] of CASES) {
  test(`${name}: a prompt at embeddings.output changes the output (and a causal LM's length)`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const { model } = loadBackbone(fixture('models', name), { task, numLabels: 3 });
    const raw = readJson(fixture('models', name, 'inputs.json'));
    const inputs: ModelInputs = {
      inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D,
      attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D,
      decoderInputIds: raw.decoder_input_ids ? (toTensor(raw.decoder_input_ids, 'int32') as tf.Tensor2D) : undefined,
    };
    const position = task === 'seq2seq' ? 'encoder.embeddings.output' : 'embeddings.output';
    const peft = injectMethod(model, plan({ function: 'prompt', position, length: 3, init: 'random' }, task), 1);
    const base = model.forward(inputs, ForwardContext.plain(false)).logits;
    const with3 = model.forward(inputs, peft.context({ training: false })).logits;
    if (task === 'causal-lm') assert.equal(with3.shape[1], base.shape[1]! + 3);
    else {
      assert.deepEqual(with3.shape, base.shape);
      const diff = tf.max(tf.abs(tf.sub(with3, base))).dataSync()[0];
      assert.ok(diff > 1e-4, `prompt changed the output by ${diff}`);
    }
  });
}
