// Saving picks the Python peft type that expresses a method exactly, else UNIFIED_VIEW; every
// adapter reloads onto a fresh backbone to the same outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, useBackend, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { loadBackbone, type TaskModel } from '../../../../src/engine/backbones/index.js';
import { injectMethod, selectTrainable } from '../../../../src/engine/methods/index.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { openSafetensors, writeSafetensors } from '../../../../src/engine/io/safetensors.js';
import { normalArray } from '../../../../src/engine/random.js';
import { PeftError } from '../../../../src/errors.js';
import type { TaskType } from '../../../../src/plan/index.js';
import { llama, plan, randomize, logits, maxDiff } from '../../methods/helpers.js';

interface Case {
  method: Record<string, unknown>;
  type: string;
  task?: TaskType;
  config?: Record<string, unknown>;
  tensors?: string[];
}

const CASES: Record<string, Case> = {
  'lora in one layer': {
    method: { preset: 'lora', rank: 2, layers: [1] }, type: 'LORA',
    config: { target_modules: ['q_proj', 'v_proj'], layers_to_transform: [1] },
  },
  'rslora on all projections': { method: { preset: 'rslora', rank: 2, position: ['attn.query', 'attn.key', 'attn.value', 'attn.out_proj', 'ffn.up_proj', 'ffn.gate_proj', 'ffn.down_proj'] }, type: 'LORA', config: { use_rslora: true } },
  'lowrank at a sublayer (parallel adapter form)': { method: { function: 'lowrank', position: 'attn.output', rank: 2 }, type: 'UNIFIED_VIEW' },
  'lowrank with a learned scale': { method: { preset: 'lora', rank: 2, scale: 'learned' }, type: 'UNIFIED_VIEW' },
  'ia3 preset': {
    method: { preset: 'ia3' }, type: 'IA3',
    config: { target_modules: ['down_proj', 'k_proj', 'v_proj'], feedforward_modules: ['down_proj'] },
    tensors: ['base_model.model.model.layers.0.mlp.down_proj.ia3_l', 'base_model.model.model.layers.0.self_attn.k_proj.ia3_l'],
  },
  'scaling of the heads (input of o_proj)': {
    method: { function: 'scaling', position: ['attn.heads', 'attn.value'] }, type: 'IA3',
    config: { target_modules: ['o_proj', 'v_proj'], feedforward_modules: ['o_proj'] },
  },
  'scaling of a sublayer output': { method: { function: 'scaling', position: 'attn.output' }, type: 'UNIFIED_VIEW' },
  adalora: { method: { preset: 'adalora', rank: 4, target_rank: 2 }, type: 'ADALORA', config: { init_r: 4, target_r: 2, rank_pattern: null } },
  loha: { method: { preset: 'loha', rank: 2, alpha: 4 }, type: 'LOHA', config: { r: 2, alpha: 4 } },
  'prompt at the word embeddings': { method: { preset: 'prompt', length: 4 }, type: 'PROMPT_TUNING', config: { num_virtual_tokens: 4, token_dim: 32 }, tensors: ['prompt_embeddings'] },
  'prompt after the embedding module': { method: { preset: 'prompt', length: 4, position: 'embeddings.output' }, type: 'UNIFIED_VIEW' },
  'houlsby adapters': { method: { preset: 'adapter-houlsby', bottleneck: 4 }, type: 'UNIFIED_VIEW' },
  'mam (prefix MLP + scaled parallel adapter)': {
    method: { preset: 'mam', modules: { prefix: { length: 3, reparam: { hidden: 8 } }, adapter: { bottleneck: 4 } } }, type: 'UNIFIED_VIEW',
  },
  'ungated prefix through an MLP, with a learned scale': {
    method: { function: 'prefix', length: 3, reparam: { hidden: 8 }, composition: 'scaled', scale: 'learned' }, type: 'UNIFIED_VIEW',
    tensors: ['base_model.model.model.layers.1.self_attn.heads.prefix.prefix_value', 'base_model.model.model.layers.1.self_attn.heads.prefix.scale'],
  },
  'lora with the seq-cls head': {
    method: { preset: 'lora', rank: 2 }, task: 'seq-cls', type: 'LORA', config: { modules_to_save: ['score'], task_type: 'SEQ_CLS' },
    tensors: ['base_model.model.score.weight'],
  },
  'prompt with the seq-cls head (prompt learning keeps it under base_model.)': {
    method: { preset: 'prompt', length: 3 }, task: 'seq-cls', type: 'PROMPT_TUNING', tensors: ['base_model.score.weight', 'prompt_embeddings'],
  },
  'lora + layer norms (ln tuning)': { method: { preset: 'lora', rank: 2, unfreeze: ['norms'] }, type: 'UNIFIED_VIEW', tensors: ['base_model.model.model.norm.weight'] },
};

for (const [name, c] of Object.entries(CASES)) {
  test(`adapter round trip: ${name} → ${c.type}`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const task = c.task ?? 'causal-lm';
    const model = llama(task, 0);
    const peft = injectMethod(model, plan(c.method, task), 0);
    randomize(peft);
    const trainable = selectTrainable(peft);
    for (const n of trainable.backboneNames) {
      const p = trainable.params.get(n)!;
      p.set(tf.tensor(normalArray(p.size, 0.3, 77, n.includes('norm') ? 1 : 0), [...p.shape]));
    }
    const dir = mkdtempSync(join(tmpdir(), 'peft-rt-'));
    const saved = saveAdapter(peft, dir, { baseModel: 'models/llama', backboneNames: trainable.backboneNames });
    assert.equal(saved.type, c.type);
    const cfg = readJson(dir, 'adapter_config.json');
    for (const [k, v] of Object.entries(c.config ?? {})) assert.deepEqual(Array.isArray(v) ? [...cfg[k]].sort() : cfg[k], v, k);
    const file = openSafetensors(join(dir, 'adapter_model.safetensors'));
    for (const n of c.tensors ?? []) assert.ok(file.has(n), `${n} in ${file.names().join(', ')}`);
    const fresh = llama(task, 1);
    const loaded = loadAdapter(dir, fresh);
    assert.equal(loaded.type, c.type);
    assert.deepEqual(loaded.warnings, []);
    const d = maxDiff(logits(fresh, loaded.peft), logits(model, peft));
    assert.ok(d < 1e-6, `reloaded logits differ by ${d}`);
    // and saved again, the same file
    const again = mkdtempSync(join(tmpdir(), 'peft-rt2-'));
    saveAdapter(loaded.peft, again, { baseModel: 'models/llama', backboneNames: loaded.backboneNames });
    const file2 = openSafetensors(join(again, 'adapter_model.safetensors'));
    assert.deepEqual(file2.names().sort(), file.names().sort());
    for (const n of file.names()) assert.deepEqual(file2.read(n), file.read(n), n);
  });
}

test('unknown adapter_config.json keys are a warning, not a failure', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const dir = mkdtempSync(join(tmpdir(), 'peft-unknown-'));
  const cfg = readJson(fixture('peft', 'llama-lora', 'adapter_config.json'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, shiny_new_option: { a: 1 } }));
  copyFileSync(fixture('peft', 'llama-lora', 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
  const { warnings } = loadAdapter(dir, llama());
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /unknown key "shiny_new_option"/);
});

test('an unsupported peft_type names the supported ones', { skip: SKIP_NO_SHARED }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-boft-'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'BOFT', target_modules: ['q_proj'] }));
  assert.throws(() => loadAdapter(dir, llama()), (e: unknown) => e instanceof PeftError && /BOFT/.test(e.message) && /ADALORA/.test(e.hint ?? ''));
});

test('a peft AdaLoRA adapter pruned with a rank_pattern loads with its kept triplets and the initial-rank scale', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const src = fixture('peft', 'llama-adalora');
  const full = loadAdapter(src, llama());
  // prune: keep triplets [0, 2] of q_proj in layer 0 (the others at E = 0 in the full adapter)
  const keep = [true, false, true, false];
  const dir = mkdtempSync(join(tmpdir(), 'peft-adalora-rp-'));
  const cfg = readJson(src, 'adapter_config.json');
  const key = 'model.layers.0.self_attn.q_proj';
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, rank_pattern: { [`${key}.lora_E`]: keep } }));
  const file = openSafetensors(join(src, 'adapter_model.safetensors'));
  writeSafetensors(join(dir, 'adapter_model.safetensors'), file.names().map((n) => {
    const { shape } = file.info(n);
    const data = file.read(n) as Float32Array;
    if (!n.includes(`${key}.`)) return { name: n, shape, data };
    const t = tf.tensor(data, shape);
    const idx = tf.tensor1d([0, 2], 'int32');
    const cut = n.endsWith('lora_B') ? tf.gather(t, idx, 1) : tf.gather(t, idx, 0);
    return { name: n, shape: cut.shape, data: cut.dataSync() as Float32Array };
  }));
  const pruned = loadAdapter(dir, llama());
  assert.deepEqual(pruned.warnings, []);
  // the same outputs as the full adapter with the dropped singular values at zero
  const E = full.peft.store.namedParams().find(([n]) => n === `${key}.adalora.lora_E`)![1];
  const e = Float32Array.from(E.value.dataSync());
  e[1] = 0;
  e[3] = 0;
  E.set(tf.tensor(e, [4, 1]));
  assert.ok(maxDiff(logits(pruned.peft.model, pruned.peft), logits(full.peft.model, full.peft)) < 1e-6);
});

test('encoder-decoder prompt tuning: peft\'s num_transformer_submodules 2 (encoder then decoder prompts) or 1 (encoder only)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const bart = (seed: number) => loadBackbone(fixture('models', 'bart'), { task: 'seq2seq', seed }).model;
  const raw = readJson(fixture('models', 'bart', 'inputs.json'));
  const run = (m: TaskModel, p: ReturnType<typeof injectMethod>) => m.forward({
    inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D,
    decoderInputIds: toTensor(raw.decoder_input_ids, 'int32') as tf.Tensor2D,
  }, p.context({ training: false })).logits;
  for (const [position, submodules, decoderLength] of [['embeddings', 2, 9], ['encoder.embeddings', 1, 6]] as const) {
    const model = bart(0);
    const peft = injectMethod(model, plan({ preset: 'prompt', length: 3, position }, 'seq2seq'), 0);
    randomize(peft);
    const dir = mkdtempSync(join(tmpdir(), 'peft-bart-prompt-'));
    assert.equal(saveAdapter(peft, dir, { baseModel: 'models/bart' }).type, 'PROMPT_TUNING');
    const cfg = readJson(dir, 'adapter_config.json');
    assert.equal(cfg.num_transformer_submodules, submodules);
    assert.deepEqual(openSafetensors(join(dir, 'adapter_model.safetensors')).info('prompt_embeddings').shape, [3 * submodules, 32]);
    const loaded = loadAdapter(dir, bart(1));
    assert.deepEqual(loaded.warnings, []);
    const want = run(model, peft);
    assert.deepEqual(want.shape, [2, decoderLength, 100]);
    assert.ok(maxDiff(run(loaded.peft.model, loaded.peft), want) < 1e-6);
  }
  // a prompt on the decoder alone has no peft form
  const peft = injectMethod(bart(0), plan({ preset: 'prompt', length: 3, position: 'decoder.embeddings' }, 'seq2seq'), 0);
  assert.equal(saveAdapter(peft, mkdtempSync(join(tmpdir(), 'peft-bart-dec-')), { baseModel: 'models/bart' }).type, 'UNIFIED_VIEW');
});

test('a peft LoRA whose targets differ per layer (a regex) loads as one module per layer set and saves back as one LORA', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const src = fixture('peft', 'llama-lora');
  const keep = ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.v_proj'];
  const dir = mkdtempSync(join(tmpdir(), 'peft-lora-regex-'));
  const cfg = readJson(src, 'adapter_config.json');
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: keep.map((k) => k.replace(/\./g, '\\.')).join('|') }));
  const file = openSafetensors(join(src, 'adapter_model.safetensors'));
  const names = file.names().filter((n) => keep.some((k) => n.includes(`.${k}.`)));
  writeSafetensors(join(dir, 'adapter_model.safetensors'), names.map((n) => ({ name: n, shape: file.info(n).shape, data: file.read(n) })));
  const { peft, warnings } = loadAdapter(dir, llama());
  assert.deepEqual(warnings, []);
  assert.equal(peft.modules.length, 2);
  assert.deepEqual(peft.modules.flatMap((m) => m.sites.map((s) => s.path)).sort(), keep);
  const again = mkdtempSync(join(tmpdir(), 'peft-lora-regex2-'));
  assert.equal(saveAdapter(peft, again, { baseModel: 'models/llama' }).type, 'LORA');
  assert.deepEqual(openSafetensors(join(again, 'adapter_model.safetensors')).names().sort(), names.sort());
  const reloaded = loadAdapter(again, llama());
  assert.ok(maxDiff(logits(reloaded.peft.model, reloaded.peft), logits(peft.model, peft)) < 1e-7);
});
