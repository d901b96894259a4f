import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { loadBackbone } from '../../../../src/engine/backbones/index.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';

test('a Python peft LoRA adapter on LLaMA reproduces its logits, and saves back in the same layout', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const inputs = readJson(fixture('models', 'llama', 'inputs.json'));
  const expected = readJson(fixture('peft', 'llama-lora', 'outputs.json'));
  const { model } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
  const { peft, type, warnings } = loadAdapter(fixture('peft', 'llama-lora'), model);
  assert.equal(type, 'LORA');
  assert.deepEqual(warnings, []);
  const out = model.forward(
    { inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D, attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D },
    peft.context({ training: false }),
  );
  assertClose(out.logits, expected.logits, 'logits');

  const dir = mkdtempSync(join(tmpdir(), 'peft-lora-'));
  saveAdapter(peft, dir, { baseModel: 'models/llama' });
  const ours = openSafetensors(join(dir, 'adapter_model.safetensors'));
  const theirs = openSafetensors(fixture('peft', 'llama-lora', 'adapter_model.safetensors'));
  assert.deepEqual(ours.names().sort(), theirs.names().sort());
  for (const n of theirs.names()) {
    assert.deepEqual(ours.info(n).shape, theirs.info(n).shape, n);
    assert.deepEqual(Array.from(ours.read(n)), Array.from(theirs.read(n)), n);
  }
  const cfg = readJson(dir, 'adapter_config.json');
  const ref = readJson(fixture('peft', 'llama-lora', 'adapter_config.json'));
  for (const k of ['peft_type', 'r', 'lora_alpha', 'task_type', 'layers_to_transform', 'fan_in_fan_out']) assert.deepEqual(cfg[k], ref[k], k);
  assert.deepEqual([...cfg.target_modules].sort(), [...ref.target_modules].sort());
});
