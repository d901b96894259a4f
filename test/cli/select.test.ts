// Selective methods through the CLI: a run resumed from a mid-run checkpoint ends with an adapter
// bit-identical to the uninterrupted run's (the layout, SaRA's re-selection state and SPT's
// data-chosen entries come from the checkpoint); `peft inspect` reads a run's selection; `peft
// eval` and `peft predict` apply the stored deltas; `peft merge` folds them into a model directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';
import { sst2Rows } from '../helpers/trained-run.js';

function workspace(method: string, extra: string[] = []): { dir: string; recipe: string } {
  const dir = mkdtempSync(join(tmpdir(), 'peft-select-cli-'));
  writeFileSync(join(dir, 'train.jsonl'), sst2Rows('train', 64).join('\n') + '\n');
  writeFileSync(join(dir, 'dev.jsonl'), sst2Rows('dev', 24).join('\n') + '\n');
  const recipe = join(dir, 'sel.yaml');
  writeFileSync(recipe, [
    'name: sel',
    'seed: 5',
    `backbone: {path: ${join(REPO, 'assets', 'models', 'stories260K')}}`,
    'task: {type: seq-cls, labels: [negative, positive]}',
    'data: {train: ./train.jsonl, max_length: 24}',
    `method: ${method}`,
    'training: {max_steps: 8, batch_size: 8, log_every: 2, checkpoint_every: 2, keep_checkpoints: 10}',
    'optimizer: {lr: 5.0e-3, weight_decay: 0.01}',
    `output: {dir: ${join(dir, 'runs')}}`,
    ...extra,
    '',
  ].join('\n'));
  return { dir, recipe };
}

/** Trains, then replays the run from its step-4 checkpoint in a copy; both adapters must be the same bytes. */
function resumeCheck(method: string): { run: string; resumed: string; stdout: string } {
  const { dir, recipe } = workspace(method);
  const r = peftCli(['train', recipe, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const run = JSON.parse(r.stdout).run_dir as string;
  const copy = join(dir, 'copy');
  cpSync(run, copy, { recursive: true });
  for (const n of readdirSync(join(copy, 'checkpoints'))) if (Number(/step-(\d+)/.exec(n)?.[1]) > 4) rmSync(join(copy, 'checkpoints', n), { recursive: true });
  rmSync(join(copy, 'adapter'), { recursive: true });
  rmSync(join(copy, 'summary.json'));
  const again = peftCli(['train', '--resume', copy]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /resuming from .*step-4 \(step 4\/8\)/);
  const a = readFileSync(join(run, 'adapter', 'adapter_model.safetensors'));
  const b = readFileSync(join(copy, 'adapter', 'adapter_model.safetensors'));
  assert.ok(a.equals(b), 'the resumed run\'s adapter is bit-identical to the uninterrupted one\'s');
  return { run, resumed: copy, stdout: again.stdout };
}

test('SaRA resumes exactly across its re-selection (at step 3, checkpoint at step 4)', { timeout: 600_000 }, () => {
  const { stdout } = resumeCheck('{preset: sara, select: {budget: 0.05, reselect: {every: 3}}}');
  assert.match(stdout, /select {2}magnitude restored from the checkpoint: [\d,]+ entries/);
});

test('SPT resumes exactly without measuring again: its data-chosen entries come from the checkpoint', { timeout: 600_000 }, () => {
  const { run, stdout } = resumeCheck('{preset: spt, select: {batches: 2, budget: 0.02}}');
  assert.match(stdout, /select {2}sensitivity restored from the checkpoint/);
  const first = readFileSync(join(run, 'checkpoints', 'step-4', 'trainer_state.json'), 'utf8');
  assert.match(first, /"criterion": "sensitivity"/);
  assert.ok(existsSync(join(run, 'checkpoints', 'step-4', 'selection.safetensors')));
});

test('inspect, eval, predict and merge on a selective run', { timeout: 600_000 }, () => {
  const { dir, recipe } = workspace('{preset: mask-tuning, select: {position: [attn.query, attn.value]}}', []);
  writeFileSync(recipe, readFileSync(recipe, 'utf8').replace('data: {train: ./train.jsonl,', 'data: {train: ./train.jsonl, validation: ./dev.jsonl,')
    .replace('optimizer: {lr: 5.0e-3, weight_decay: 0.01}', 'optimizer: {lr: 5.0e-3, groups: [{match: select.scores, lr: 2.0e-3}]}'));
  const r = peftCli(['train', recipe, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  const run = summary.run_dir as string;

  const ins = peftCli(['inspect', run, '--json']);
  assert.equal(ins.code, 0, ins.stderr);
  const report = JSON.parse(ins.stdout);
  assert.equal(report.type, 'UNIFIED_VIEW');
  assert.equal(report.selection.criterion, 'learned');
  assert.equal(report.selection.weights.length, 10, 'q and v of 5 layers');
  for (const w of report.selection.weights) assert.ok(w.form === 'sparse' && w.total === (/q_proj/.test(w.weight) ? 4096 : 2048), JSON.stringify(w));
  assert.ok(report.selection.entries > 0, 'the mask switched some entries off');
  assert.ok(report.bytes < 4 * 30720, `sparse: ${report.bytes} bytes against ${4 * 30720} for the dense weights`);
  const text = peftCli(['inspect', run]);
  assert.match(text.stdout, /select learned \(seed 5\): [\d,]+ entries trained one by one in 10 weights/);
  assert.match(text.stdout, /model\.layers\.0\.self_attn\.q_proj\.weight +sparse +[\d,]+ \/ 4,096/);

  const ev = peftCli(['eval', run, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const evaluated = JSON.parse(ev.stdout);
  assert.equal(evaluated.metrics.accuracy, summary.after.accuracy);
  assert.ok(Math.abs(evaluated.metrics.loss - summary.after.loss) < 1e-5, `${evaluated.metrics.loss} vs ${summary.after.loss}`);

  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, sst2Rows('dev', 3).join('\n') + '\n');
  const pr = peftCli(['predict', run, '--input', rows, '--output', join(dir, 'pred.jsonl')]);
  assert.equal(pr.code, 0, pr.stderr);
  assert.equal(readFileSync(join(dir, 'pred.jsonl'), 'utf8').trim().split('\n').length, 3);

  const mg = peftCli(['merge', run, '--out', join(dir, 'merged'), '--json']);
  assert.equal(mg.code, 0, mg.stderr);
  const merged = JSON.parse(mg.stdout);
  assert.ok(merged.max_logit_diff < 1e-4, `merged logits differ by ${merged.max_logit_diff}`);
  assert.ok(merged.merged.some((m: string) => /^select → model\.layers\.0\.self_attn\.q_proj\.weight$/.test(m)), merged.merged.join(', '));
});
