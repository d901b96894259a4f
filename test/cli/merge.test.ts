// `peft merge RUN_DIR`: a LoRA run folds into a model directory that loads as a plain backbone
// and gives the unmerged model's logits; a bottleneck-adapter run is refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { peftCli } from '../helpers/cli.js';
import { useBackend } from '../helpers/fixtures.js';
import { loadBackbone } from '../../src/engine/backbones/index.js';
import { loadAdapter } from '../../src/engine/adapters/peft/load.js';
import { ForwardContext } from '../../src/engine/nn/context.js';

function trained(recipe: string): string {
  const out = mkdtempSync(join(tmpdir(), 'peft-merge-'));
  const r = peftCli(['train', recipe, '--output', out, '--json', '--set', 'training.max_steps=4']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).run_dir;
}

test('peft merge writes a model directory whose logits equal the adapter\'s', async () => {
  const run = trained('test/fixtures/e2e/tiny-lora.yaml');
  const r = peftCli(['merge', run]);
  assert.equal(r.code, 0, r.stderr);
  const merged = join(run, 'merged');
  assert.match(r.stdout, new RegExp(`wrote {2}${merged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) assert.ok(existsSync(join(merged, f)), f);
  await useBackend();
  const ids = tf.tensor2d([[1, 403, 407, 261, 378, 432]], [1, 6], 'int32');
  const plain = loadBackbone(merged, { task: 'causal-lm' }).model.forward({ inputIds: ids }, ForwardContext.plain(false)).logits;
  const { model } = loadBackbone('assets/models/stories260K', { task: 'causal-lm' });
  const { peft } = loadAdapter(join(run, 'adapter'), model);
  const adapted = model.forward({ inputIds: ids }, peft.context({ training: false })).logits;
  const diff = tf.max(tf.abs(tf.sub(plain, adapted))).dataSync()[0];
  assert.ok(diff < 1e-4, `merged vs adapter logits differ by ${diff}`);
});

test('peft merge refuses a non-mergeable method with one line and exit 2', () => {
  const run = trained('test/fixtures/e2e/tiny-adapter.yaml');
  const r = peftCli(['merge', run]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot be merged: its Δh passes through a nonlinearity/);
  assert.ok(!existsSync(join(run, 'merged', 'model.safetensors')));
});
