// The low-rank family from the command line: `peft methods` lists the twelve presets with their
// papers; runs of them train (CorDA calibrating first), merge into a model whose logits are the
// adapter's — or are refused with the reason (MoLA's router) — and `peft predict --logits` on
// token-id rows gives the in-process logits of a saved VeRA adapter in peft's layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { peftCli } from '../helpers/cli.js';
import { useBackend, assertClose } from '../helpers/fixtures.js';
import { loadBackbone } from '../../src/engine/backbones/index.js';
import { loadAdapter } from '../../src/engine/adapters/peft/load.js';
import { ForwardContext } from '../../src/engine/nn/context.js';

const FAMILY = ['vera', 'nola', 'vblora', 'mos', 'loldu', 'flora', 'hydra', 'mola', 'increlora', 'triadaptlora', 'corda', 'intrinsic-dim'];
const IDS = [[1, 403, 407, 261, 378, 432], [1, 88, 17, 300, 2, 9]];

function trained(method: string, steps = 4): { run: string; stderr: string } {
  const out = mkdtempSync(join(tmpdir(), 'peft-family-'));
  const r = peftCli(['train', 'test/fixtures/e2e/tiny-lora.yaml', '--output', out, '--json', '--set', `training.max_steps=${steps}`, '--set', `method=${method}`]);
  assert.equal(r.code, 0, r.stderr);
  return { run: JSON.parse(r.stdout).run_dir, stderr: r.stderr };
}

async function logitsOf(modelDir: string, adapter: string | null): Promise<tf.Tensor> {
  await useBackend();
  const ids = tf.tensor2d(IDS, [2, 6], 'int32');
  const { model } = loadBackbone(modelDir, { task: 'causal-lm' });
  if (!adapter) return model.forward({ inputIds: ids }, ForwardContext.plain(false)).logits;
  const { peft } = loadAdapter(adapter, model);
  return model.forward({ inputIds: ids }, peft.context({ training: false })).logits;
}

test('peft methods lists the family with its papers and expands a preset into its dimensions', () => {
  const r = peftCli(['methods', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const listed = (JSON.parse(r.stdout).methods as { name: string; source: string }[]);
  for (const name of FAMILY) assert.ok(listed.some((m) => m.name === name && /\d{4}/.test(m.source)), name);
  const mola = peftCli(['methods', 'mola']);
  assert.equal(mola.code, 0, mola.stderr);
  assert.match(mola.stdout + mola.stderr, /experts=2,4,6,8/);
  assert.match(mola.stdout + mola.stderr, /"balance_loss":0\.001/);
});

for (const [name, method] of [
  ['hydra', '{preset: hydra, rank: 4, position: [attn.query, attn.value]}'],
  ['increlora', '{preset: increlora, rank: 1, target_rank: 2, tinit: 0, delta_t: 1, position: [attn.query, attn.value]}'],
  ['corda', '{preset: corda, rank: 4, calibration_batches: 2, position: [attn.query, attn.value]}'],
  ['loldu', '{preset: loldu, rank: 16}'],
] as const) {
  test(`${name}: trains from the CLI and merges into a model whose logits are the adapter's`, async () => {
    const { run, stderr } = trained(method);
    if (name === 'corda') assert.match(stderr, /initialised from 8 training examples \(corda: CorDA\)/);
    const r = peftCli(['merge', run]);
    assert.equal(r.code, 0, r.stderr);
    const merged = await logitsOf(join(run, 'merged'), null);
    const adapted = await logitsOf('assets/models/stories260K', join(run, 'adapter'));
    const diff = tf.max(tf.abs(tf.sub(merged, adapted))).dataSync()[0];
    assert.ok(diff < 1e-4, `merged vs adapter logits differ by ${diff}`);
  });
}

test('mola: merging is refused with the reason, exit 2, nothing written', () => {
  const { run } = trained('{preset: mola, experts: [2, 4], rank: 2, position: [attn.query]}');
  const r = peftCli(['merge', run]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot be merged: a router picks its experts for every token, so the update depends on the input/);
  assert.ok(!existsSync(join(run, 'merged', 'model.safetensors')));
});

test('a VeRA run saves peft\'s VERA layout, and predict --logits on id rows gives its logits', async () => {
  const { run } = trained('{preset: vera, rank: 16}');
  const cfg = JSON.parse(readFileSync(join(run, 'adapter', 'adapter_config.json'), 'utf8'));
  assert.equal(cfg.peft_type, 'VERA');
  const dir = mkdtempSync(join(tmpdir(), 'peft-vera-ids-'));
  writeFileSync(join(dir, 'ids.jsonl'), IDS.map((ids) => JSON.stringify({ input_ids: ids })).join('\n') + '\n');
  const r = peftCli(['predict', run, '--input', join(dir, 'ids.jsonl'), '--output', join(dir, 'out.jsonl'), '--logits', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).logits as number[][]);
  const want = await logitsOf('assets/models/stories260K', join(run, 'adapter'));
  assertClose(rows.flat(2), Array.from(want.dataSync()), 'logits');
});

test('peft inspect prints the adapter file\'s bytes: an intrinsic-dimension adapter for stories260K is a few kilobytes', () => {
  const r = peftCli(['inspect', 'configs/glue/sst2-intrinsic-dim.yaml', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.modules[0].trainable_params, 2000);
  assert.ok(rep.adapter_bytes < 10_000, `${rep.adapter_bytes} bytes`);
  const nola = JSON.parse(peftCli(['inspect', 'configs/glue/sst2-nola.yaml', '--json']).stdout);
  assert.ok(nola.adapter_bytes < 10_000, `NOLA: ${nola.adapter_bytes} bytes`);
  assert.equal(nola.adapter_type, 'UNIFIED_VIEW');
  const text = peftCli(['inspect', 'configs/glue/sst2-intrinsic-dim.yaml']);
  assert.match(text.stdout + text.stderr, /adapter: {3}[\d,]+ bytes of tensors \+ [\d,]+ bytes of config \(UNIFIED_VIEW\)/);
});
