// Ranks grown during training (IncreLoRA, TriAdaptLoRA) are training state beyond the parameters —
// each module's current rank, the importance EMAs, whether the reserves were added and the budget
// reached — and are checkpointed with it: a run interrupted while ranks grow and resumed ends
// bit-identical to an uninterrupted one (as AdaLoRA's pruning does, resume-adalora.test.ts).
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
import { listCheckpoints } from '../../../src/engine/train/checkpoint.js';

const BACKEND = process.env.PEFT_TEST_BACKEND;

const METHODS = {
  increlora: 'method={preset: increlora, rank: 1, target_rank: 3, grow_by: 1, grow_modules: 3, tinit: 2, delta_t: 2, dropout: 0}',
  triadaptlora: 'method={preset: triadaptlora, rank: 2, target_rank: 4, grow_by: 2, tinit: 2, delta_t: 3, dropout: 0}',
};

function plan(method: string): Plan {
  const sets = [method, 'training.max_steps=24', 'training.checkpoint_every=4'];
  const { plan: p, issues } = planRecipe(resolveRecipe(join(REPO, 'test', 'fixtures', 'e2e', 'resume.yaml'), { sets }));
  assert.deepEqual(issues, []);
  return { ...p!, output: { dir: mkdtempSync(join(tmpdir(), 'peft-grow-')) } };
}

async function train(p: Plan, run: RunDir, opts: { stopAt?: number; resume?: boolean } = {}): Promise<{ error: unknown; ranks: number[] }> {
  const s = await openSession(p, { backend: BACKEND });
  const data = await buildData(p, s.tokenizer);
  let steps = 0;
  let error: unknown = null;
  try {
    await trainLoop(s, data, run, { onStep: () => void steps++, shouldStop: () => opts.stopAt !== undefined && steps >= opts.stopAt }, opts.resume ?? false);
  } catch (e) {
    error = e;
  }
  const ranks = s.peft.store.namedBuffers().filter(([n]) => n.endsWith('rank_state')).map(([, b]) => b.value.dataSync()[0]);
  tf.disposeVariables();
  return { error, ranks };
}

for (const [name, method] of Object.entries(METHODS)) {
  test(`${name} resumed while ranks grow ends bit-identical: the ranks and scores are in the checkpoint`, async () => {
    const p = plan(method);
    const ref = RunDir.create(p.output.dir, 'ref');
    ref.writePlan(p);
    const full = await train(p, ref);
    assert.equal(full.error, null);
    assert.ok(full.ranks.some((r) => r > (name === 'increlora' ? 1 : 2)), `ranks grew: ${full.ranks}`);

    const run = RunDir.create(p.output.dir, 'cut');
    run.writePlan(p);
    const cut = await train(p, run, { stopAt: 9 });
    assert.match(String((cut.error as Error)?.message), /interrupted at step/);
    const cps = listCheckpoints(run.checkpointsDir);
    const state = JSON.parse(readFileSync(join(cps[cps.length - 1]!.path, 'trainer_state.json'), 'utf8'));
    assert.ok(Array.isArray(state.method['0'].ranks), 'the ranks are saved');
    const resumed = await train(p, run, { resume: true });
    assert.equal(resumed.error, null);
    assert.deepEqual(resumed.ranks, full.ranks);
    const a = readFileSync(join(ref.adapterDir, 'adapter_model.safetensors'));
    const b = readFileSync(join(run.adapterDir, 'adapter_model.safetensors'));
    assert.ok(a.equals(b), 'final adapter bit-identical to the uninterrupted run');
  });
}
