// Merging beyond two LoRAs, on Python peft's own adapters (../shared/fixtures/peft, the tiny
// LLaMA): LoHa and AdaLoRA merge by their ΔW (one adapter at weight 1, full rank, is itself),
// IA³ by a weighted sum of its vectors, a LoRA with a LoHa by Σ w·ΔW; a bottleneck adapter and a
// DoRA are refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { readAdapterUpdates } from '../../../src/engine/merge/adapter-updates.js';
import { combineAdapters } from '../../../src/engine/merge/combine.js';
import { writeCombined } from '../../../src/engine/merge/combine-run.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { saveAdapter } from '../../../src/engine/adapters/peft/save.js';
import { injectMethod } from '../../../src/engine/methods/index.js';
import { mixAdapters } from '../../../src/engine/infer/adapter-mix.js';
import { llama, logits, maxDiff, plan, randomize } from '../methods/helpers.js';
import type { CombineOptions } from '../../../src/engine/merge/combine.js';

function mergedLogits(dirs: string[], o: CombineOptions): tf.Tensor {
  const c = combineAdapters(dirs.map(readAdapterUpdates), o);
  const out = mkdtempSync(join(tmpdir(), 'peft-merge-kinds-'));
  writeCombined(out, c, {});
  const { peft } = loadAdapter(out, llama());
  return logits(peft.model, peft);
}

test('LoHa and AdaLoRA merge by ΔW: one adapter at weight 1 and full rank is itself', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  for (const name of ['llama-loha', 'llama-adalora']) {
    const src = fixture('peft', name);
    const { peft } = loadAdapter(src, llama());
    const want = logits(peft.model, peft);
    assert.ok(maxDiff(mergedLogits([src], { method: 'task_arithmetic', weights: [1], rank: 'full' }), want) < 1e-4, name);
  }
});

test('a LoRA and a LoHa: task_arithmetic is W + Σ w·ΔW (their sum at inference); linear refuses the LoHa', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const lora = fixture('peft', 'llama-lora');
  const loha = fixture('peft', 'llama-loha');
  const model = llama();
  const a = loadAdapter(lora, model).peft;
  const b = loadAdapter(loha, model).peft;
  const want = logits(model, mixAdapters([{ peft: a, weight: 0.7, label: 'a' }, { peft: b, weight: 0.5, label: 'b' }], 'sum'));
  assert.ok(maxDiff(mergedLogits([lora, loha], { method: 'task_arithmetic', weights: [0.7, 0.5], rank: 'full' }), want) < 1e-4);
  assert.throws(() => combineAdapters([lora, loha].map(readAdapterUpdates), { method: 'linear', weights: [1, 1] }), /--method linear merges LoRA factors .* is a LOHA adapter/);
});

test('IA³ adapters merge by Σ w·l (peft\'s rule): two halves of one adapter are that adapter', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const src = fixture('peft', 'llama-ia3');
  const { peft } = loadAdapter(src, llama());
  const c = combineAdapters([src, src].map(readAdapterUpdates), { method: 'linear', weights: [0.5, 0.5] });
  assert.equal(c.type, 'IA3');
  assert.deepEqual(c.config.feedforward_modules, ['down_proj']);
  const out = mkdtempSync(join(tmpdir(), 'peft-merge-ia3-'));
  writeCombined(out, c, {});
  const merged = loadAdapter(out, llama()).peft;
  assert.ok(maxDiff(logits(merged.model, merged), logits(peft.model, peft)) < 1e-5);
  assert.throws(() => combineAdapters([src, src].map(readAdapterUpdates), { method: 'ties', weights: [1, 1], density: 0.5 }), /IA³ adapters merge by --method linear only/);
  assert.throws(() => combineAdapters([src, fixture('peft', 'llama-lora')].map(readAdapterUpdates), { method: 'linear', weights: [1, 1] }), /IA³ scales activations .* adds a ΔW/);
});

test('refused with the reason: a bottleneck (UNIFIED_VIEW) adapter, a DoRA', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const save = (method: Record<string, unknown>) => {
    const peft = injectMethod(llama(), plan(method), 0);
    randomize(peft);
    const dir = mkdtempSync(join(tmpdir(), 'peft-merge-refuse-'));
    saveAdapter(peft, dir, { baseModel: 'models/llama' });
    return dir;
  };
  assert.throws(() => readAdapterUpdates(save({ preset: 'adapter-houlsby', bottleneck: 4 })), /UNIFIED_VIEW adapter .* is not a weight update: it cannot be merged with others/);
  assert.throws(() => readAdapterUpdates(save({ preset: 'dora', rank: 2 })), /DoRA adapter cannot be merged with others: .* depends on the base weights/);
});
