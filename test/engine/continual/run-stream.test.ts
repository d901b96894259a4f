// A stream end to end (two GLUE tasks, a few examples, LAE on a bottleneck adapter): stages and
// phases in the run directory, one metrics line per (stage, task), the matrix and its measures in
// summary.json, `peft eval` of the run reproducing the last row through the strategy's ensemble,
// and a run stopped inside the second stage that resumes to the same numbers and weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../helpers/fixtures.js';
import { twoTaskRecipe } from '../../helpers/tasks.js';
import { runTraining } from '../../../src/engine/train/run.js';
import { evaluateRun } from '../../../src/engine/infer/evaluate-run.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../src/errors.js';
import type { StreamSummary } from '../../../src/engine/continual/run-stream.js';

const RECIPE = `method: {preset: adapter-houlsby, bottleneck: 4}
stream: {strategy: lae, lae: {decay: 0.5, freeze_epochs: 1}}
training: {epochs: 2, batch_size: 4, log_every: 1, checkpoint_every: 1}`;

test('an LAE stream: matrix, measures, eval through the ensemble, and a resume inside a stage', async () => {
  await useBackend();
  const a = twoTaskRecipe(RECIPE);
  const stages: string[] = [];
  const summary = await runTraining(a.plan, {}, { onStage: (s) => stages.push(`${s.stage}:${s.task}:${s.phase}`) }) as StreamSummary;
  assert.deepEqual(stages, ['0:sst2:train', '1:rte:frozen', '1:rte:train']);
  for (const d of ['stages/0-sst2/train', 'stages/1-rte/frozen', 'stages/1-rte/train', 'stream']) assert.ok(existsSync(join(summary.run_dir, d)), d);
  const lines = RunDir.open(summary.run_dir).readMetrics().filter((m) => m.type === 'stream');
  assert.deepEqual(lines.map((m) => `${m.stage}:${m.task}`), ['0:sst2', '1:sst2', '1:rte']);
  const s = summary.stream;
  assert.deepEqual(s.tasks, ['sst2', 'rte']);
  const acc = (k: number, t: string) => lines.find((m) => m.stage === k && m.task === t)!.accuracy as number;
  assert.deepEqual(s.matrix, [[acc(0, 'sst2'), null], [acc(1, 'sst2'), acc(1, 'rte')]]);
  assert.ok(Math.abs(s.average_accuracy - (acc(1, 'sst2') + acc(1, 'rte')) / 2) < 1e-12);
  assert.ok(Math.abs(s.forgetting! - (acc(0, 'sst2') - acc(1, 'sst2'))) < 1e-12);
  assert.ok(Math.abs(s.backward_transfer! - (acc(1, 'sst2') - acc(0, 'sst2'))) < 1e-12);
  assert.deepEqual([s.scenario, s.strategy, summary.steps], ['task-incremental', 'lae', 2 * 2 + 2 * 2]);

  // peft eval of the run: the strategy's sets back, the same last row
  const ev = await evaluateRun({ plan: a.plan, runDir: summary.run_dir, adapterDir: summary.adapter_dir, adapterDirs: [summary.adapter_dir] }, { split: 'validation' });
  for (const t of ['sst2', 'rte']) {
    const last = lines.find((m) => m.stage === 1 && m.task === t)!;
    assert.ok(Math.abs(ev.metrics[`${t}/accuracy`]! - (last.accuracy as number)) < 1e-12, t);
    assert.ok(Math.abs(ev.metrics[`${t}/loss`]! - (last.loss as number)) < 1e-6, t);
  }

  // stopped at the first step of stage 2's unfrozen phase, then resumed
  const b = twoTaskRecipe(RECIPE);
  let at = '';
  await assert.rejects(runTraining(b.plan, {}, { onStage: (st) => { at = `${st.stage}:${st.phase}`; }, shouldStop: () => at === '1:train' }),
    (e: unknown) => e instanceof PeftError && e.code === 'INTERRUPTED');
  const stopped = RunDir.latest(b.plan.output.dir, b.plan.name)!;
  const resumed = await runTraining(stopped.readPlan(), { resumeDir: stopped.path }) as StreamSummary;
  assert.match(resumed.resumed_from ?? '', /stages\/1-rte\/train\/checkpoints\/step-1$/);
  assert.deepEqual(resumed.stream.matrix, s.matrix);
  const x = openSafetensors(join(summary.adapter_dir, 'adapter_model.safetensors'));
  const y = openSafetensors(join(resumed.adapter_dir, 'adapter_model.safetensors'));
  for (const n of x.names()) assert.deepEqual(Array.from(y.read(n)), Array.from(x.read(n)), n);
  const sx = openSafetensors(join(summary.run_dir, 'stream', 'sets.safetensors'));
  const sy = openSafetensors(join(resumed.run_dir, 'stream', 'sets.safetensors'));
  for (const n of sx.names()) assert.deepEqual(Array.from(sy.read(n)), Array.from(sx.read(n)), `offline ${n}`);
});
