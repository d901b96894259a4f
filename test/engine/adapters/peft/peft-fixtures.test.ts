// Parity with Python peft for every adapter type: each fixture in ../shared/fixtures/peft loads
// onto its backbone and reproduces peft's logits, and saving it again writes the same tensor
// names, shapes and values and the same key config fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, HAVE_SHARED } from '../../../helpers/fixtures.js';
import { buildBackbone, loadBackbone, type ModelInputs } from '../../../../src/engine/backbones/index.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../../src/errors.js';

const KEY_FIELDS: Record<string, string[]> = {
  LORA: ['peft_type', 'task_type', 'r', 'lora_alpha', 'layers_to_transform', 'fan_in_fan_out'],
  IA3: ['peft_type', 'task_type', 'fan_in_fan_out'],
  ADALORA: ['peft_type', 'task_type', 'init_r', 'target_r', 'lora_alpha', 'tinit', 'tfinal', 'deltaT', 'beta1', 'beta2', 'orth_reg_weight', 'fan_in_fan_out'],
  LOHA: ['peft_type', 'task_type', 'r', 'alpha', 'layers_to_transform'],
  PREFIX_TUNING: ['peft_type', 'task_type', 'num_virtual_tokens', 'num_layers', 'token_dim', 'num_attention_heads', 'num_transformer_submodules'],
  PROMPT_TUNING: ['peft_type', 'task_type', 'num_virtual_tokens', 'num_layers', 'token_dim', 'num_attention_heads', 'num_transformer_submodules', 'prompt_tuning_init'],
};
const LIST_FIELDS = ['target_modules', 'feedforward_modules'];

const TASK: Record<string, { task: 'causal-lm' | 'seq-cls'; numLabels?: number }> = {
  llama: { task: 'causal-lm' },
  gpt2: { task: 'causal-lm' },
  bert: { task: 'seq-cls', numLabels: 3 },
};

const FIXTURES = HAVE_SHARED ? readdirSync(fixture('peft')).filter((n) => TASK[n.split('-')[0]]).sort() : [];

/** Why a backbone cannot be built yet (its family is being written), or false. */
function familyMissing(model: string): string | false {
  try {
    buildBackbone(fixture('models', model), TASK[model]);
    return false;
  } catch (e) {
    if (e instanceof PeftError && e.code === 'BACKBONE') return `the ${model} family is not in the backbone registry yet (${e.message})`;
    throw e;
  }
}

/** Largest |a − b| / |b| over elements with |b| ≥ 0.01, largest |a − b|, and the worst error as a share of the fixtures' tolerance. */
function errors(a: ArrayLike<number>, b: number[]): { rel: number; abs: number; tol: number } {
  let rel = 0;
  let abs = 0;
  let tol = 0;
  b.forEach((v, i) => {
    const d = Math.abs(a[i] - v);
    abs = Math.max(abs, d);
    tol = Math.max(tol, d / (1e-4 * Math.abs(v) + 1e-5));
    if (Math.abs(v) >= 0.01) rel = Math.max(rel, d / Math.abs(v));
  });
  return { rel, abs, tol };
}

function inputsOf(model: string): ModelInputs {
  const raw = readJson(fixture('models', model, 'inputs.json'));
  const inputs: ModelInputs = {
    inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D,
  };
  if (raw.token_type_ids) inputs.tokenTypeIds = toTensor(raw.token_type_ids, 'int32') as tf.Tensor2D;
  return inputs;
}

if (!HAVE_SHARED) test('peft fixtures', { skip: 'needs ../shared (fixtures are read from there)' }, () => {});

for (const name of FIXTURES) {
  const model = name.split('-')[0];
  const missing = familyMissing(model);
  test(`peft ${name}: loads onto ${model}, reproduces peft's logits, saves back the same`, { skip: missing }, async (t) => {
    await useBackend();
    const dir = fixture('peft', name);
    const expected = readJson(dir, 'outputs.json');
    const ref = readJson(dir, 'adapter_config.json');
    const { model: backbone } = loadBackbone(fixture('models', model), TASK[model]);
    const { peft, type, warnings } = loadAdapter(dir, backbone);
    assert.equal(type, ref.peft_type);
    assert.deepEqual(warnings, []);
    const out = backbone.forward(inputsOf(model), peft.context({ training: false }));
    const err = errors(out.logits.dataSync(), expected.logits.data);
    t.diagnostic(`${name}: max relative error ${err.rel.toExponential(2)} (|b| ≥ 0.01), max abs error ${err.abs.toExponential(2)}, ${(100 * err.tol).toFixed(0)}% of the tolerance`);
    assertClose(out.logits, expected.logits, `${name} logits`);

    const saved = mkdtempSync(join(tmpdir(), `peft-${name}-`));
    const { type: savedType } = saveAdapter(peft, saved, { baseModel: ref.base_model_name_or_path });
    assert.equal(savedType, ref.peft_type);
    const ours = openSafetensors(join(saved, 'adapter_model.safetensors'));
    const theirs = openSafetensors(join(dir, 'adapter_model.safetensors'));
    assert.deepEqual(ours.names().sort(), theirs.names().sort());
    for (const n of theirs.names()) {
      assert.deepEqual(ours.info(n).shape, theirs.info(n).shape, n);
      assert.deepEqual(Array.from(ours.read(n)), Array.from(theirs.read(n)), n);
    }
    const cfg = readJson(saved, 'adapter_config.json');
    for (const k of KEY_FIELDS[ref.peft_type] ?? []) assert.deepEqual(cfg[k], ref[k], k);
    for (const k of LIST_FIELDS) if (Array.isArray(ref[k])) assert.deepEqual([...cfg[k]].sort(), [...ref[k]].sort(), k);
  });
}
