// A class-incremental stream cut from one labelled set (optdigits, two tasks of two digits, the
// tiny digits ViT) with ConPET: the expert and selector phases, every task evaluated over every
// digit seen so far, `peft eval` of the run reproducing its last row through the selector, and
// `peft predict` naming digits among those seen (with --task too: the scenario gives no task id
// at test time, so a task's rows still range over every digit seen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, useBackend } from '../../helpers/fixtures.js';
import { validateRecipeFile } from '../../../src/recipes/index.js';
import { runTraining } from '../../../src/engine/train/run.js';
import { evaluateRun } from '../../../src/engine/infer/evaluate-run.js';
import { predictRun } from '../../../src/engine/infer/predict-run.js';
import type { StreamSummary } from '../../../src/engine/continual/run-stream.js';

test('class-incremental ConPET on optdigits: selector phases, evaluation over the digits seen, eval and predict of the run', async () => {
  await useBackend();
  const dir = mkdtempSync(join(tmpdir(), 'peft-cil-'));
  const file = join(dir, 'cil.yaml');
  const data = join(REPO, 'assets', 'data', 'optdigits', 'optdigits.tra');
  writeFileSync(file, `name: cil
backbone: {path: ${join(REPO, 'assets', 'models', 'vit-digits-tiny')}}
task: {type: image-cls, num_labels: 10}
data: {train: {path: ${data}, limit: 48}, validation: {split: {of: train, fraction: 0.2}}, format: csv, columns: {image: '0..63', label: '64'}}
stream: {split: {classes_per_task: 2, order: [3, 1, 0, 2]}, strategy: conpet, replay: 8}
method: {preset: lora, rank: 2}
training: {epochs: 1, batch_size: 16, log_every: 1, loss_spike: {factor: 100, action: skip}}
optimizer: {lr: 1.0e-2}
eval: {limit: 24}
output: {dir: ${join(dir, 'runs')}}
`);
  const v = validateRecipeFile(file);
  assert.deepEqual(v.issues, []);
  assert.deepEqual(v.plan!.tasks!.map((t) => t.name), ['classes-3-1', 'classes-0-2']);
  const phases: string[] = [];
  const summary = await runTraining(v.plan!, {}, { onStage: (s) => phases.push(`${s.stage}:${s.phase}`) }) as StreamSummary;
  assert.deepEqual(phases, ['0:expert', '1:expert', '1:selector']);
  assert.equal(summary.stream.scenario, 'class-incremental');
  const target = { plan: v.plan!, runDir: summary.run_dir, adapterDir: summary.adapter_dir, adapterDirs: [summary.adapter_dir] };
  const ev = await evaluateRun(target, { split: 'validation' });
  for (const t of ['classes-3-1', 'classes-0-2']) assert.equal(ev.metrics[`${t}/accuracy`], summary.tasks[t]!.accuracy, t);

  const rows = join(dir, 'rows.csv');
  writeFileSync(rows, readFileSync(data, 'utf8').split('\n').slice(0, 12).join('\n') + '\n');
  await predictRun(target, { input: rows, output: join(dir, 'all.jsonl') });
  const all = readFileSync(join(dir, 'all.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(all.length, 12);
  assert.ok(all.every((p) => ['0', '1', '2', '3'].includes(p.label) && Object.keys(p.probs).join() === '0,1,2,3'), JSON.stringify(all[0]));
  await predictRun(target, { input: rows, output: join(dir, 'one.jsonl'), task: 'classes-0-2' });
  const one = readFileSync(join(dir, 'one.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(one.every((p) => Object.keys(p.probs).join() === '0,1,2,3'));
});
