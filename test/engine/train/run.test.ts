// End to end in-process: a real (tiny) training run, then the facts the spine promises —
// loss falls, frozen backbone tensors are bit-identical, the saved adapter reloads to the same
// logits, the live tensor count stays flat, and the run directory has what DESIGN.md lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO } from '../../helpers/fixtures.js';
import { resolveRecipe, planRecipe, type Plan } from '../../../src/recipes/index.js';
import { openSession } from '../../../src/engine/session.js';
import { buildData } from '../../../src/engine/data/build.js';
import { trainLoop } from '../../../src/engine/train/loop.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { loadBackbone } from '../../../src/engine/backbones/index.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { batchInputs } from '../../../src/engine/train/task-loss.js';

function planOf(file: string, out: string): Plan {
  const r = resolveRecipe(join(REPO, 'test', 'fixtures', 'e2e', file));
  const { plan, issues } = planRecipe(r);
  assert.deepEqual(issues, []);
  return { ...plan!, output: { dir: out } };
}

for (const recipe of ['tiny-lora.yaml', 'tiny-adapter.yaml']) {
  test(`training ${recipe}: loss falls, frozen tensors unchanged, adapter reloads, no tensor leak`, async () => {
    const plan = planOf(recipe, mkdtempSync(join(tmpdir(), 'peft-run-')));
    const s = await openSession(plan, { backend: process.env.PEFT_TEST_BACKEND ?? 'cpu' });
    const frozen = new Map<string, Float32Array>();
    for (const [name, p] of s.model.root.namedParams()) if (!p.trainable) frozen.set(name, Float32Array.from(p.value.dataSync()));
    assert.ok(frozen.size > 0);
    const data = await buildData(plan, s.tokenizer);
    const run = RunDir.create(plan.output.dir, plan.name);
    run.writePlan(plan);
    const result = await trainLoop(s, data, run);
    assert.equal(result.steps, 24);

    const logs = run.readMetrics().filter((r) => r.type === 'train');
    assert.ok(logs.length >= 5);
    const first = logs[0].loss as number;
    const last = logs[logs.length - 1].loss as number;
    assert.ok(last < first - 0.3, `loss fell from ${first} to ${last}`);
    const counts = logs.map((r) => r.live_tensors as number);
    assert.ok(counts.every((c) => c === counts[1]), `live tensors after each logged step: ${counts.join(', ')}`);

    for (const [name, p] of s.model.root.namedParams()) {
      const before = frozen.get(name);
      if (!before) continue;
      const after = p.value.dataSync();
      assert.ok(before.length === after.length && before.every((v, i) => Object.is(v, after[i])), `${name} changed`);
    }

    for (const f of ['recipe.resolved.yaml', 'metrics.jsonl', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors']) {
      assert.ok(existsSync(join(run.path, f)), f);
    }
    assert.ok(existsSync(join(run.checkpointsDir, 'step-24', 'trainer_state.json')));
    assert.ok(!existsSync(join(run.checkpointsDir, 'step-8')), 'retention keeps the last 2 checkpoints');

    const batch = data.validation!.sequential()[Symbol.iterator]().next().value!;
    const trained = tf.tidy(() => s.model.forward(batchInputs(batch), s.peft.context({ training: false })).logits.dataSync());
    const { model: fresh } = loadBackbone(plan.backbone.path, { task: 'causal-lm' });
    const { peft } = loadAdapter(run.adapterDir, fresh);
    const reloaded = tf.tidy(() => fresh.forward(batchInputs(batch), peft.context({ training: false })).logits.dataSync());
    assert.equal(trained.length, reloaded.length);
    let worst = 0;
    for (let i = 0; i < trained.length; i++) worst = Math.max(worst, Math.abs(trained[i] - reloaded[i]));
    assert.ok(worst === 0, `reloaded logits differ by ${worst}`);
    const cfg = JSON.parse(readFileSync(join(run.adapterDir, 'adapter_config.json'), 'utf8'));
    assert.equal(cfg.peft_type, recipe === 'tiny-lora.yaml' ? 'LORA' : 'UNIFIED_VIEW');
    tf.disposeVariables();
  });
}
