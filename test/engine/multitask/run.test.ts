// A multi-task run end to end (two GLUE tasks, a few examples, Poly routed by task): each task
// evaluated with its own metrics and their mean, the adapter saved as Python peft's POLY with one
// routing row per task, `peft eval` / `peft predict` of one task, and an interrupted run that
// resumes to the same adapter as an uninterrupted one (the mixture's cursor in the checkpoint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../helpers/fixtures.js';
import { twoTaskRecipe } from '../../helpers/tasks.js';
import { runTraining } from '../../../src/engine/train/run.js';
import { evaluateRun } from '../../../src/engine/infer/evaluate-run.js';
import { predictRun } from '../../../src/engine/infer/predict-run.js';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { PeftError } from '../../../src/errors.js';
import type { MultiTaskSummary } from '../../../src/engine/multitask/run.js';

const TRAINING = 'training: {max_steps: 4, batch_size: 4, sampling: round-robin, eval_every: 2, checkpoint_every: 2, log_every: 2}\nmethod: {preset: poly, rank: 2, n_skills: 2}';

test('joint training of two tasks: per-task metrics and their mean, a POLY adapter, eval and predict of one task, resume', async () => {
  await useBackend();
  const { dir, plan } = twoTaskRecipe(TRAINING);
  const summary = await runTraining(plan, {}) as MultiTaskSummary;
  assert.deepEqual(Object.keys(summary.tasks), ['sst2', 'rte']);
  assert.deepEqual(Object.keys(summary.tasks.rte!).sort(), ['accuracy', 'f1', 'loss']);
  const mean = (summary.tasks.sst2!.accuracy! + summary.tasks.rte!.accuracy!) / 2;
  assert.ok(Math.abs(summary.after!.task_mean! - mean) < 1e-12);
  assert.deepEqual(summary.sampling, { rule: 'round-robin', temperature: 1, probabilities: { sst2: 0.5, rte: 0.5 } });
  const evals = RunDir.open(summary.run_dir).readMetrics().filter((m) => m.type === 'eval');
  assert.deepEqual(evals.map((m) => m.step), [0, 2, 4, 4]);
  assert.ok(evals.every((m) => typeof m.task_mean === 'number' && typeof m['rte/f1'] === 'number'));
  const cfg = JSON.parse(readFileSync(join(summary.adapter_dir, 'adapter_config.json'), 'utf8'));
  assert.deepEqual([cfg.peft_type, cfg.n_tasks, cfg.n_skills], ['POLY', 2, 2]);
  const weights = openSafetensors(join(summary.adapter_dir, 'adapter_model.safetensors'));
  assert.deepEqual(weights.info(weights.names().find((n) => n.endsWith('poly_router.module_logits'))!).shape, [2, 2]);
  assert.deepEqual(weights.info('base_model.model.score.weight').shape, [4, 64], 'one head, two columns per task');

  // the adapter kept is the best by task_mean: eval gives what the run measured at that step
  const target = { plan, runDir: summary.run_dir, adapterDir: summary.adapter_dir, adapterDirs: [summary.adapter_dir] };
  const kept = evals.filter((m) => m.best === true).pop()!;
  const rte = await evaluateRun(target, { split: 'validation', task: 'rte' });
  for (const k of ['loss', 'accuracy', 'f1']) assert.ok(Math.abs(rte.metrics[k]! - (kept[`rte/${k}`] as number)) < 1e-6, k);
  const both = await evaluateRun(target, { split: 'validation' });
  assert.ok(Math.abs(both.metrics.task_mean! - (kept.task_mean as number)) < 1e-9);
  await assert.rejects(evaluateRun(target, { split: 'validation', task: 'rtx' }), (e: unknown) => e instanceof PeftError && /no such task \(did you mean "rte"\?\)/.test(e.message));

  const rows = join(dir, 'rows.jsonl');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(rows, '{"sentence": "a gripping, funny film"}\n{"sentence": "dull"}\n');
  await predictRun(target, { input: rows, output: join(dir, 'out.jsonl'), task: 'sst2' });
  const preds = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(preds.every((p) => ['negative', 'positive'].includes(p.label) && Object.keys(p.probs).join() === 'negative,positive'));
  await assert.rejects(predictRun(target, { input: rows, output: join(dir, 'out2.jsonl') }), /name the one the rows are of, --task NAME/);

  // interrupted after step 3 (its checkpoint at step 2 and the one the stop writes), then resumed
  const again = twoTaskRecipe(TRAINING);
  let steps = 0;
  await assert.rejects(runTraining(again.plan, {}, { onStep: () => { steps++; }, shouldStop: () => steps === 3 }), (e: unknown) => e instanceof PeftError && e.code === 'INTERRUPTED');
  const stopped = RunDir.latest(again.plan.output.dir, again.plan.name)!;
  const resumed = await runTraining(stopped.readPlan(), { resumeDir: stopped.path });
  assert.equal(resumed.resumed_from !== null, true);
  const a = openSafetensors(join(summary.adapter_dir, 'adapter_model.safetensors'));
  const b = openSafetensors(join(resumed.adapter_dir, 'adapter_model.safetensors'));
  for (const n of a.names()) assert.deepEqual(Array.from(b.read(n)), Array.from(a.read(n)), n);
});
