// Python peft 0.13's VERA and VBLORA types (../shared/fixtures/peft-0.13/{llama,bert}-{vera,vblora}).
// The configs translate into our plans (basis: shared / bank) and the files' shared tensors load
// into the shared basis and bank. The fixtures as committed hold the shared tensors only — no
// vera_lambda_b/_d, no vblora_logits_A/_B, no classifier — so their logits cannot be reproduced
// from them: loading says which tensor is missing, and the logits test runs (to 1e-4, merged too)
// as soon as a fixture has its per-layer tensors. Saving writes peft's layout, and reads it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED, HAVE_SHARED } from '../../../helpers/fixtures.js';
import { loadBackbone, type ModelInputs } from '../../../../src/engine/backbones/index.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { injectMethod } from '../../../../src/engine/methods/inject.js';
import { mergeIntoBackbone } from '../../../../src/engine/merge/fold.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';
import { ForwardContext } from '../../../../src/engine/nn/context.js';
import { plan, randomize } from '../../methods/helpers.js';

const TASK = { llama: { task: 'causal-lm' as const }, bert: { task: 'seq-cls' as const, numLabels: 3 } };
const PER_LAYER = { vera: 'vera_lambda_b', vblora: 'vblora_logits_A' };

function inputsOf(model: string): ModelInputs {
  const raw = readJson(fixture('models', model, 'inputs.json'));
  const inputs: ModelInputs = { inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D, attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D };
  if (raw.token_type_ids) inputs.tokenTypeIds = toTensor(raw.token_type_ids, 'int32') as tf.Tensor2D;
  return inputs;
}

for (const model of ['llama', 'bert'] as const) {
  for (const method of ['vera', 'vblora'] as const) {
    const name = `${model}-${method}`;
    const dir = HAVE_SHARED ? fixture('peft-0.13', name) : '';
    const complete = HAVE_SHARED && openSafetensors(join(dir, 'adapter_model.safetensors')).names().some((n) => n.includes(PER_LAYER[method]));

    test(`peft 0.13 ${name}: the config becomes our plan, and the missing per-layer tensors are named`, { skip: SKIP_NO_SHARED }, async () => {
      await useBackend();
      const cfg = readJson(dir, 'adapter_config.json');
      const { model: backbone } = loadBackbone(fixture('models', model), TASK[model]);
      if (complete) return;
      assert.throws(() => loadAdapter(dir, backbone), (e: Error) => {
        assert.match(e.message, /tensor missing from the adapter/);
        assert.match(String((e as { where?: string }).where), new RegExp(`${PER_LAYER[method]}$`));
        return true;
      });
      // what the file does hold: the shared tensors, with the shapes our plan gives them
      const file = openSafetensors(join(dir, 'adapter_model.safetensors'));
      const words = method === 'vera'
        ? { preset: 'vera', rank: cfg.r, projection_seed: cfg.projection_prng_key, position: ['attn.query', 'attn.value'] }
        : { preset: 'vblora', rank: cfg.r, num_vectors: cfg.num_vectors, vector_length: cfg.vector_length, top_k: cfg.topk, position: ['attn.query', 'attn.value'] };
      const peft = injectMethod(backbone, plan(words, TASK[model].task), 0);
      const shared = method === 'vera' ? peft.store.namedBuffers().map(([, b]) => b.shape) : peft.store.namedParams().filter(([n]) => n.endsWith('vector_bank')).map(([, p]) => p.shape);
      const inFile = file.names().map((n) => file.info(n).shape);
      assert.deepEqual(shared, inFile);
    });

    test(`peft 0.13 ${name}: logits (and merged logits) to 1e-4`, { skip: !HAVE_SHARED ? 'needs ../shared' : complete ? false : `the fixture holds no ${PER_LAYER[method]} (only the shared tensors were saved)` }, async () => {
      await useBackend();
      const expected = readJson(dir, 'outputs.json');
      const { model: backbone } = loadBackbone(fixture('models', model), TASK[model]);
      const loaded = loadAdapter(dir, backbone);
      const out = backbone.forward(inputsOf(model), loaded.peft.context({ training: false })).logits;
      assertClose(out, expected.logits, 'logits');
      mergeIntoBackbone(loaded.peft);
      assertClose(backbone.forward(inputsOf(model), ForwardContext.plain(false)).logits, expected.merged_logits, 'merged logits');
    });
  }
}

for (const [method, words] of [
  ['vera', { preset: 'vera', rank: 8 }],
  ['vblora', { preset: 'vblora', rank: 4, num_vectors: 16, vector_length: 8 }],
  ['vblora top-k', { preset: 'vblora', rank: 4, num_vectors: 16, vector_length: 8, save_only_topk: true }],
] as const) {
  test(`${method} saves in peft's layout and loads back to the same logits`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const { model } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
    const peft = injectMethod(model, plan(words), 0);
    randomize(peft, 4, 0.3);
    const before = model.forward(inputsOf('llama'), peft.context({ training: false })).logits;
    const dir = mkdtempSync(join(tmpdir(), 'peft-vera-'));
    const saved = saveAdapter(peft, dir, { baseModel: 'models/llama' });
    const cfg = JSON.parse(readFileSync(saved.config, 'utf8'));
    const file = openSafetensors(saved.weights);
    if (method === 'vera') {
      assert.equal(saved.type, 'VERA');
      assert.deepEqual([cfg.r, cfg.projection_prng_key, cfg.save_projection, cfg.d_initial], [8, 0, true, 0.1]);
      assert.deepEqual(file.info('base_model.vera_A').shape, [8, 32]);
      assert.deepEqual(file.info('base_model.vera_B').shape, [32, 8]);
      assert.deepEqual(file.info('base_model.model.model.layers.1.self_attn.v_proj.vera_lambda_b').shape, [16]);
      assert.deepEqual(file.info('base_model.model.model.layers.1.self_attn.v_proj.vera_lambda_d').shape, [8]);
    } else {
      assert.equal(saved.type, 'VBLORA');
      assert.deepEqual([cfg.r, cfg.num_vectors, cfg.vector_length, cfg.topk], [4, 16, 8, 2]);
      assert.deepEqual(file.info('base_model.vblora_vector_bank').shape, [16, 8]);
      if (method === 'vblora') {
        assert.deepEqual(file.info('base_model.model.model.layers.0.self_attn.q_proj.vblora_logits_A').shape, [4, 4, 16]);
        assert.deepEqual(file.info('base_model.model.model.layers.0.self_attn.v_proj.vblora_logits_B').shape, [2, 4, 16]);
      } else {
        assert.equal(cfg.save_only_topk_weights, true);
        const idx = file.info('base_model.model.model.layers.0.self_attn.q_proj.vblora_logits_A_topk_indices');
        assert.deepEqual([idx.dtype, idx.shape], ['U8', [4, 4, 2]]);
        assert.deepEqual(file.info('base_model.model.model.layers.0.self_attn.q_proj.vblora_logits_A_topk_weights').shape, [4, 4, 1]);
      }
    }
    const { model: fresh } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
    const loaded = loadAdapter(dir, fresh);
    assert.equal(loaded.type, saved.type);
    assert.deepEqual(loaded.warnings, []);
    assertClose(fresh.forward(inputsOf('llama'), loaded.peft.context({ training: false })).logits, { shape: before.shape, data: Array.from(before.dataSync()) }, 'logits after a round trip');
  });
}

test('a VeRA adapter saved without its projection is refused: its basis comes from torch\'s generator', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const dir = mkdtempSync(join(tmpdir(), 'peft-vera-noproj-'));
  const { model } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
  const peft = injectMethod(model, plan({ preset: 'vera', rank: 8 }), 0);
  const saved = saveAdapter(peft, dir, { baseModel: 'models/llama' });
  const cfg = JSON.parse(readFileSync(saved.config, 'utf8'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(saved.config, JSON.stringify({ ...cfg, save_projection: false }));
  assert.throws(() => loadAdapter(dir, model), /saved without its projection \(save_projection: false\)/);
});

test('VeRA with save_projection: false is saved as our own type with the seed alone, and regenerates the same basis', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
  const peft = injectMethod(model, plan({ preset: 'vera', rank: 8, save_projection: false, projection_seed: 12 }), 0);
  randomize(peft, 5, 0.3);
  const before = model.forward(inputsOf('llama'), peft.context({ training: false })).logits;
  const dir = mkdtempSync(join(tmpdir(), 'peft-vera-seed-'));
  const saved = saveAdapter(peft, dir, { baseModel: 'models/llama' });
  assert.equal(saved.type, 'UNIFIED_VIEW');
  assert.ok(openSafetensors(saved.weights).names().every((n) => /vera_lambda_[bd]$/.test(n)));
  const { model: fresh } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
  const loaded = loadAdapter(dir, fresh);
  assertClose(fresh.forward(inputsOf('llama'), loaded.peft.context({ training: false })).logits, { shape: before.shape, data: Array.from(before.dataSync()) }, 'logits');
});
