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
  const p = plan({ maxSteps: 1000, logEvery: 100, checkpointEvery: null, batchSize: 2 });
  const s = await openSession({ ...p, data: { ...p.data, maxLength: 8 } }, { backend: BACKEND });
  const data = await buildData({ ...p, data: { ...p.data, maxLength: 8 } }, s.tokenizer);
  const small = { train: new Batcher(data.train.examples.slice(0, 8), 2, p.seed, 0), validation: null };
  const run = RunDir.create(p.output.dir, p.name);
  run.writePlan(p);
  const counts: number[] = [];
  await trainLoop(s, small, run, { onStep: (r) => { if (r.step % 100 === 0) counts.push(tf.memory().numTensors); } });
  assert.equal(counts.length, 10);
  assert.ok(counts.every((c) => c === counts[0]), `live tensors every 100 steps: ${counts.join(', ')}`);
  tf.disposeVariables();
});
