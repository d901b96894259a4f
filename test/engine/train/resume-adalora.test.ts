// A method with training state beyond its parameters — AdaLoRA's importance scores (EMAs of
// |w·∇w|) and its rank pattern — is checkpointed with it: a run interrupted in the middle of the
// budget schedule and resumed from its checkpoint ends bit-identical to an uninterrupted one.
// Without that state the resumed allocator would rank triplets by fresh (zero) scores.
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
import { listCheckpoints } from '../../../src/engine/train/checkpoint.js';

const BACKEND = process.env.PEFT_TEST_BACKEND;

function plan(): Plan {
  const sets = ['method={preset: adalora, rank: 6, target_rank: 2, tinit: 4, tfinal: 8, delta_t: 2}', 'training.max_steps=30', 'training.checkpoint_every=4', 'method.dropout=0'];
  const { plan: p, issues } = planRecipe(resolveRecipe(join(REPO, 'test', 'fixtures', 'e2e', 'resume.yaml'), { sets }));
  assert.deepEqual(issues, []);
  return { ...p!, output: { dir: mkdtempSync(join(tmpdir(), 'peft-adalora-')) } };
}

async function train(p: Plan, run: RunDir, opts: { stopAt?: number; resume?: boolean } = {}): Promise<unknown> {
  const s = await openSession(p, { backend: BACKEND });
  const data = await buildData(p, s.tokenizer);
  let steps = 0;
  try {
    await trainLoop(s, data, run, { onStep: () => void steps++, shouldStop: () => opts.stopAt !== undefined && steps >= opts.stopAt }, opts.resume ?? false);
    return null;
  } catch (e) {
    return e;
  } finally {
    tf.disposeVariables();
  }
}

test('AdaLoRA resumed mid-schedule ends bit-identical: its scores and rank pattern are in the checkpoint', async () => {
  const p = plan();
  const ref = RunDir.create(p.output.dir, 'ref');
  ref.writePlan(p);
  assert.equal(await train(p, ref), null);

  const run = RunDir.create(p.output.dir, 'cut');
  run.writePlan(p);
  const stopped = await train(p, run, { stopAt: 14 });
  assert.match(String((stopped as Error)?.message), /interrupted at step 1[4-6]\/30/);
  const cps = listCheckpoints(run.checkpointsDir);
  const last = cps[cps.length - 1]!;
  assert.ok(last.step > 4 && last.step < 22, `checkpoint inside the budget schedule (step ${last.step})`);
  assert.ok(existsSync(join(last.path, 'method_state.safetensors')), 'the scores are saved');
  const state = JSON.parse(readFileSync(join(last.path, 'trainer_state.json'), 'utf8'));
  assert.ok(Array.isArray(state.method['0'].pattern), 'the rank pattern is saved');
  assert.equal(await train(p, run, { resume: true }), null);

  const a = readFileSync(join(ref.adapterDir, 'adapter_model.safetensors'));
  const b = readFileSync(join(run.adapterDir, 'adapter_model.safetensors'));
  assert.ok(a.equals(b), 'final adapter bit-identical to the uninterrupted run');
});
