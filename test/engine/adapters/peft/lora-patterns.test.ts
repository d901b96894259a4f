// Python peft LoRA adapters with per-module ranks and alphas (rank_pattern, alpha_pattern) load
// with peft 0.13.2's lookup and save back as LORA with the same patterns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, readJson, useBackend, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { saveAdapter } from '../../../../src/engine/adapters/peft/save.js';
import { rankAlphaOf } from '../../../../src/engine/adapters/peft/lora-patterns.js';
import { openSafetensors, writeSafetensors, type NamedTensor } from '../../../../src/engine/io/safetensors.js';
import { llama, logits, maxDiff } from '../../methods/helpers.js';

const SRC = () => fixture('peft-0.13', 'llama-merge', 'a');
const Q0 = 'model.layers.0.self_attn.q_proj';
const V1 = 'model.layers.1.self_attn.v_proj';

test('peft 0.13.2\'s pattern lookup: the first key matching `.*\\.key$` (rank keys, then alpha keys) serves both, else the full path', () => {
  const cfg = { rank_pattern: { q_proj: 2, [V1]: 3 }, alpha_pattern: { 'layers.0.self_attn.q_proj': 16, [V1]: 9 } };
  const d = { r: 4, alpha: 8 };
  // q_proj (a rank key) wins the lookup for layer 0's q_proj, so its alpha_pattern entry is not used
  assert.deepEqual(rankAlphaOf(cfg, Q0, d), { r: 2, alpha: 8 });
  assert.deepEqual(rankAlphaOf(cfg, 'model.layers.1.self_attn.q_proj', d), { r: 2, alpha: 8 });
  // a full path never matches `.*\.model…` and is found by the fallback
  assert.deepEqual(rankAlphaOf(cfg, V1, d), { r: 3, alpha: 9 });
  assert.deepEqual(rankAlphaOf(cfg, 'model.layers.0.self_attn.v_proj', d), d);
});

function writeAdapter(dir: string, cfg: Record<string, unknown>, edit: (name: string, t: NamedTensor) => NamedTensor): void {
  const file = openSafetensors(join(SRC(), 'adapter_model.safetensors'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
  writeSafetensors(join(dir, 'adapter_model.safetensors'), file.names().filter((n) => !n.includes('.b.weight'))
    .map((n) => edit(n, { name: n, shape: file.info(n).shape, data: file.read(n) })));
}

test('a LoRA with rank_pattern and alpha_pattern loads (per-module rank and scale) and saves back as LORA with them', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const base = readJson(SRC(), 'adapter_config.json');
  // layer 0 q_proj cut to rank 2 (rank_pattern, full path); layer 1 v_proj with alpha 16 (regex key)
  const patterned = mkdtempSync(join(tmpdir(), 'peft-rp-'));
  const cfg = { ...base, rank_pattern: { [Q0]: 2 }, alpha_pattern: { 'layers.1.self_attn.v_proj': 16 } };
  writeAdapter(patterned, cfg, (n, t) => {
    if (!n.includes(`.${Q0}.`)) return t;
    const [rows, cols] = t.shape as [number, number];
    if (n.includes('lora_A')) return { ...t, shape: [2, cols], data: t.data.slice(0, 2 * cols) };
    return { ...t, shape: [rows, 2], data: Float32Array.from({ length: rows * 2 }, (_, i) => (t.data as Float32Array)[Math.floor(i / 2) * cols + (i % 2)]) };
  });
  // the same update as a uniform rank-4 adapter: Q0's dropped rank rows zero and its B × (8/2)/(8/4);
  // V1's B × (16/4)/(8/4)
  const uniform = mkdtempSync(join(tmpdir(), 'peft-rp-uniform-'));
  writeAdapter(uniform, base, (n, t) => {
    const d = Float32Array.from(t.data as Float32Array);
    const [rows, cols] = t.shape as [number, number];
    if (n.includes(`.${Q0}.lora_A`)) d.fill(0, 2 * cols);
    if (n.includes(`.${Q0}.lora_B`)) for (let i = 0; i < rows * cols; i++) d[i] = i % cols < 2 ? d[i] * 2 : 0;
    if (n.includes(`.${V1}.lora_B`)) for (let i = 0; i < d.length; i++) d[i] *= 2;
    return { ...t, data: d };
  });
  const a = loadAdapter(patterned, llama());
  assert.deepEqual(a.warnings, []);
  const b = loadAdapter(uniform, llama());
  const want = logits(b.peft.model, b.peft);
  assert.ok(maxDiff(logits(a.peft.model, a.peft), want) < 1e-5);
  // saved: LORA, the common rank and alpha as defaults, the others by full path
  const out = mkdtempSync(join(tmpdir(), 'peft-rp-saved-'));
  assert.equal(saveAdapter(a.peft, out, { baseModel: 'models/llama' }).type, 'LORA');
  const saved = readJson(out, 'adapter_config.json');
  assert.equal(saved.r, 4);
  assert.equal(saved.lora_alpha, 8);
  assert.deepEqual(saved.rank_pattern, { [Q0]: 2 });
  assert.deepEqual(saved.alpha_pattern, { [V1]: 16 });
  assert.deepEqual(openSafetensors(join(out, 'adapter_model.safetensors')).info(`base_model.model.${Q0}.lora_A.weight`).shape, [2, 32]);
  const again = loadAdapter(out, llama());
  assert.ok(maxDiff(logits(again.peft.model, again.peft), want) < 1e-5);
});
