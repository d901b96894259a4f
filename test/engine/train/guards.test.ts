// The training engine's guards and invariants: a diverging run stops with its step, the last
// good checkpoint and a hint; the same recipe and seed give bit-identical adapters; the live
// tensor count stays flat over 1,000 steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO } from '../../helpers/fixtures.js';
import { resolveRecipe, planRecipe, type Plan } from '../../../src/recipes/index.js';
import { openSession } from '../../../src/engine/session.js';
import { buildData } from '../../../src/engine/data/build.js';
import { trainLoop } from '../../../src/engine/train/loop.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { Batcher } from '../../../src/engine/data/batches.js';
import { PeftError } from '../../../src/errors.js';
import { initBackend } from '../../../src/engine/backend/index.js';
import { ensureGradients } from '../../../src/engine/backend/gradients.js';
import { llamaFamily } from '../../../src/engine/backbones/llama.js';
import { initParam } from '../../../src/engine/methods/init.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { hashString } from '../../../src/engine/random.js';
import type { Session } from '../../../src/engine/session.js';

const BACKEND = process.env.PEFT_TEST_BACKEND;

function plan(sets: Partial<Plan['training']> = {}, opt: Partial<Plan['optimizer']> = {}): Plan {
  const { plan: p, issues } = planRecipe(resolveRecipe(join(REPO, 'test', 'fixtures', 'e2e', 'resume.yaml')));
  assert.deepEqual(issues, []);
  return { ...p!, training: { ...p!.training, ...sets }, optimizer: { ...p!.optimizer, ...opt }, output: { dir: mkdtempSync(join(tmpdir(), 'peft-guard-')) } };
}

async function train(p: Plan): Promise<{ run: RunDir; error: unknown }> {
  const s = await openSession(p, { backend: BACKEND });
  const data = await buildData(p, s.tokenizer);
  const run = RunDir.create(p.output.dir, p.name);
  run.writePlan(p);
  let error: unknown = null;
  try {
    await trainLoop(s, data, run);
  } catch (e) {
    error = e;
  }
  tf.disposeVariables();
  return { run, error };
}

test('a NaN loss stops the run with the step, the last good checkpoint and a hint', async () => {
  const { error } = await train(plan({ maxSteps: 40, maxGradNorm: null, checkpointEvery: 2 }, { lr: 1e7 }));
  assert.ok(error instanceof PeftError, String(error));
  assert.equal(error.code, 'DIVERGED');
  assert.equal(error.exitCode, 1);
  assert.match(error.message, /^(loss|gradient norm) became (NaN|Infinity|-Infinity) at step \d+$/);
  assert.match(error.where ?? '', /last good checkpoint: .*step-\d+|no checkpoint yet/);
  assert.match(error.hint ?? '', /lower optimizer\.lr/);
});

test('the same recipe and seed give bit-identical adapters (dropout on)', async () => {
  const a = await train(plan({ maxSteps: 6 }));
  const b = await train(plan({ maxSteps: 6 }));
  assert.equal(a.error, null);
  const fa = readFileSync(join(a.run.adapterDir, 'adapter_model.safetensors'));
  const fb = readFileSync(join(b.run.adapterDir, 'adapter_model.safetensors'));
  assert.ok(fa.equals(fb));
  const c = await train({ ...plan({ maxSteps: 6 }), seed: 4 });
  assert.ok(!fa.equals(readFileSync(join(c.run.adapterDir, 'adapter_model.safetensors'))), 'another seed gives another adapter');
});

test('the live tensor count is flat over 1,000 steps', { timeout: 900_000 }, async () => {
  // a tiny random LLaMA (2 layers, hidden 16) so that 1,000 steps measure bookkeeping, not compute
  const p = plan({ maxSteps: 1000, logEvery: 100, checkpointEvery: null, batchSize: 2 });
  await initBackend(BACKEND);
  await ensureGradients();
  const model = llamaFamily.build({
    hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
    vocab_size: 64, max_position_embeddings: 32, rms_norm_eps: 1e-6,
  }, { task: 'causal-lm' });
  for (const [name, prm] of model.root.namedParams()) initParam(prm, { kind: 'normal', std: 0.1 }, hashString(name));
  const peft = injectMethod(model, p.method, p.seed);
  const trainable = selectTrainable(peft);
  const s: Session = {
    plan: p, backend: { name: tf.getBackend(), threads: 1, fallbackNote: null }, modelDir: '', model, peft, trainable,
    tokenizer: null, load: { loaded: 0, initialized: [], unused: [] }, totalParams: 0, trainableParams: 0,
  };
  const examples = Array.from({ length: 8 }, (_, i) => ({ ids: Int32Array.from({ length: 8 }, (_, j) => (i * 7 + j * 3) % 64) }));
  const run = RunDir.create(p.output.dir, p.name);
  run.writePlan(p);
  const counts: number[] = [];
  await trainLoop(s, { train: new Batcher(examples, 2, p.seed, 0), validation: null }, run, {
    onStep: (r) => { if (r.step % 100 === 0) counts.push(tf.memory().numTensors); },
  });
  assert.equal(counts.length, 10);
  assert.ok(counts.every((c) => c === counts[0]), `live tensors every 100 steps: ${counts.join(', ')}`);
  tf.disposeVariables();
});

test('the loss-spike watchdog stops a run whose loss jumps, naming the step and the factor', async () => {
  // a learning rate that is fine for a few steps and then blows the loss up
  const p = plan({ maxSteps: 60, maxGradNorm: null, lossSpike: { factor: 1.5, window: 3, action: 'stop' } }, { lr: 3 });
  const { error } = await train(p);
  assert.ok(error instanceof PeftError, String(error));
  assert.equal(error.code, 'DIVERGED');
  assert.match(error.message, /^(loss spiked to [\d.e+]+ at step \d+ \([\d.]+× the mean of the last 3 steps\)|loss became NaN at step \d+)$/);
});
