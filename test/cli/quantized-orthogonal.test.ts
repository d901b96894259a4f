// Training options end to end: a LoRA trained through 1-bit fake quantisation saves its latent
// weights (UNIFIED_VIEW, the option kept), and `peft compress --bits 1` packs it to exactly the
// weights it trained with (same logits, option dropped); an orthogonal LoRA saves as plain LORA
// with its frozen rows from the shared basis, untouched by training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { REPO, assertClose, readJson } from '../helpers/fixtures.js';
import { openSafetensors } from '../../src/engine/io/safetensors.js';
import { orthogonalRows } from '../../src/engine/methods/orthogonal.js';
import { seedFor } from '../../src/engine/random.js';

const RECIPE = join(REPO, 'test', 'fixtures', 'e2e', 'tiny-lora.yaml');

function train(sets: string[]): { out: string; runDir: string } {
  const out = mkdtempSync(join(tmpdir(), 'peft-opts-'));
  const r = peftCli(['train', RECIPE, '--output', out, '--json', '--set', 'training.max_steps=6', ...sets.flatMap((s) => ['--set', s])]);
  assert.equal(r.code, 0, r.stderr);
  return { out, runDir: JSON.parse(r.stdout).run_dir };
}

function logits(runDir: string, dir: string, adapter: string | null): number[] {
  const ids = join(dir, 'ids.jsonl');
  writeFileSync(ids, '{"input_ids": [1, 403, 407, 261, 378, 432]}\n');
  const out = join(dir, `l-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = peftCli(['predict', runDir, ...(adapter ? ['--adapter', adapter] : []), '--input', ids, '--output', out, '--logits']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(out, 'utf8')).logits.flat();
}

test('quantize_bits: 1 trains through fake quantisation; compress --bits 1 packs exactly those weights', () => {
  const { out, runDir } = train(['method.quantize_bits=1']);
  const cfg = readJson(runDir, 'adapter', 'adapter_config.json');
  assert.equal(cfg.peft_type, 'UNIFIED_VIEW');
  assert.equal(cfg.method.modules[0].options.quantize_bits, 1);
  const before = logits(runDir, out, null);
  const packed = join(out, 'packed');
  const c = peftCli(['compress', runDir, '--method', 'quantize', '--bits', '1', '--out', packed]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /the packed codes are exactly the weights it trained with/);
  assert.equal(readJson(packed, 'adapter_config.json').method.modules[0].options.quantize_bits, undefined);
  assertClose(logits(runDir, out, packed), before, 'logits of the 1-bit packed adapter vs the QAT run', 1e-4, 1e-5);
});

test('orthogonal: {slot: 2}: lora_A saved as LORA is the frozen basis rows, lora_B trained', () => {
  const { runDir } = train(['method.orthogonal={slot: 2, seed: 4}']);
  const cfg = readJson(runDir, 'adapter', 'adapter_config.json');
  assert.equal(cfg.peft_type, 'LORA');
  const file = openSafetensors(join(runDir, 'adapter', 'adapter_model.safetensors'));
  const site = 'model.layers.0.self_attn.q_proj';
  const A = file.read(`base_model.model.${site}.lora_A.weight`);
  assertClose(A, Array.from(orthogonalRows(64, 4, 2, seedFor(4, site))), 'frozen rows', 1e-6, 1e-7);
  assert.ok(file.read(`base_model.model.${site}.lora_B.weight`).some((v) => v !== 0), 'B trained');
});
