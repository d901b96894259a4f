// Python peft 0.13.2's POLY adapters (Poly, and MHR with n_splits 4) on the tiny LLaMA and BERT:
// loaded, run with the task ids of their outputs.json, they give Python peft's logits; saved
// back, they are the same tensors under the same names, with the same config.
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

for (const family of ['llama', 'bert'] as const) {
  for (const kind of ['poly', 'mhr'] as const) {
    test(`${family}-${kind}: Python peft's logits with its task ids, and the same file back`, { skip: SKIP_NO_SHARED }, async () => {
      await useBackend();
      const dir = fixture('peft-0.13', `${family}-${kind}`);
      const inputs = readJson(fixture('models', family, 'inputs.json'));
      const expected = readJson(dir, 'outputs.json');
      const { model } = loadBackbone(fixture('models', family), family === 'llama' ? { task: 'causal-lm' } : { task: 'seq-cls', numLabels: 3 });
      const { peft, type, warnings } = loadAdapter(dir, model);
      assert.equal(type, 'POLY');
      assert.deepEqual(warnings, []);
      assert.equal(peft.method.preset, kind);
      const taskIds = expected.task_ids.data as number[];
      const out = model.forward({
        inputIds: toTensor(inputs.input_ids, 'int32') as tf.Tensor2D,
        attentionMask: toTensor(inputs.attention_mask, 'int32') as tf.Tensor2D,
        ...(inputs.token_type_ids ? { tokenTypeIds: toTensor(inputs.token_type_ids, 'int32') as tf.Tensor2D } : {}),
      }, peft.context({ training: false, taskIds }));
      assertClose(out.logits, expected.logits, 'logits');
      const saved = mkdtempSync(join(tmpdir(), 'peft-poly-'));
      saveAdapter(peft, saved, { baseModel: `models/${family}` });
      const ours = openSafetensors(join(saved, 'adapter_model.safetensors'));
      const theirs = openSafetensors(join(dir, 'adapter_model.safetensors'));
      assert.deepEqual(ours.names().sort(), theirs.names().sort());
      for (const n of theirs.names()) {
        assert.deepEqual(ours.info(n).shape, theirs.info(n).shape, n);
        assert.deepEqual(Array.from(ours.read(n)), Array.from(theirs.read(n)), n);
      }
      const cfg = readJson(saved, 'adapter_config.json');
      const ref = readJson(dir, 'adapter_config.json');
      for (const k of ['peft_type', 'poly_type', 'r', 'n_tasks', 'n_skills', 'n_splits', 'task_type']) assert.deepEqual(cfg[k], ref[k], k);
      assert.deepEqual([...cfg.target_modules].sort(), [...ref.target_modules].sort());
    });
  }
}
