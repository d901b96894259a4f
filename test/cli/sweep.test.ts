// `peft sweep` and `peft report` as a user runs them: --dry-run writes nothing, bad input is one
// line and exit 2 with no sweep directory, a sweep runs its trials in parallel processes, fills
// its table, selects under the reality-check protocol, and a killed sweep resumes its trials
// from their checkpoints when the same command runs again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, peftCli } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';

const RECIPE = join(REPO, 'test/fixtures/e2e/sweep.yaml');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

function sweepDir(out: string): string {
  const d = join(out, 'sweep-e2e');
  const [s] = readdirSync(d).filter((n) => n.startsWith('sweep-'));
  return join(d, s!);
}

test('--dry-run lists every trial with its plan and parameter counts, and writes nothing', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-sweep-dry-'));
  const r = peftCli(['sweep', RECIPE, '--dry-run', '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^sweep {3}sweep-e2e: 4 trials into /m);
  assert.equal((r.stdout.match(/^ {2}params: [\d,]+ trainable/gm) ?? []).length, 4);
  assert.match(r.stdout, /lr=0\.01 rank=4\n {2}params: 4,480 trainable \(1\.7229% of the backbone\), 4,480 stored/);
  assert.match(r.stdout, /lowrank r=2 alpha=8 at attn\.query, attn\.value/);
  assert.deepEqual(readdirSync(out), [], 'nothing written');
  const j = peftCli(['sweep', RECIPE, '--dry-run', '--json', '--output', out, '--grid', 'method.rank=8']);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.trials.length, 2);
  assert.equal(doc.trials[0].params.trainable, 8960);
  assert.equal(doc.trials[0].plan.optimizer.lr, 0.001);
});

test('bad input: one line, exit 2, no sweep directory', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-sweep-bad-'));
  const cases: [string[], RegExp][] = [
    [['--grid', 'method.rnk=2,4'], /unknown sweep key method\.rnk.*did you mean method\.rank\?/],
    [['--grid', 'optimizer.lr='], /empty grid \(no values for optimizer\.lr\)/],
    [['--grid', 'optimizer.lr=0.1,-2'], /trial lr=-2 rank=2: .*optimizer\.lr/],
    [['--parallel', '0'], /--parallel 0/],
    [['--status'], /--status needs --queue URL/],
    [['--queue', 'http://localhost:6379'], /not a redis:\/\/ URL/],
  ];
  for (const [args, message] of cases) {
    const r = peftCli(['sweep', RECIPE, '--output', out, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, message);
    assert.match(lines[0]!, /\(hint: /);
    assert.deepEqual(readdirSync(out), [], `${args.join(' ')} wrote nothing`);
  }
});

test('a reality-check sweep in 2 processes: table, selection on the tuning split, evaluation run, figures; re-running skips it all', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-sweep-rc-'));
  const recipe = join(dir, 'rc.yaml');
  writeFileSync(recipe, [
    `extends: ${RECIPE}`,
    'name: sweep-e2e',
    'sweep:',
    '  reality_check:',
    '    tune: {data.validation.limit: 4}',
    '    evaluate: {data.validation.limit: 8, seed: 2}',
    '',
  ].join('\n'));
  const out = join(dir, 'runs');
  const args = ['sweep', recipe, '--grid', 'method.rank=2', '--set', 'training.max_steps=8', '--output', out, '--parallel', '2'];
  const r = peftCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^trials {2}2: 0 finished, 2 to run/m);
  assert.match(r.stdout, /^select {2}lr=0\.01 rank=2 \(best on the tuning split\)/m);
  assert.match(r.stdout, /^report {2}lr=0\.01 rank=2 \(evaluation\) on the evaluation split: loss [\d.]+ \(reality check\)/m);
  const sd = sweepDir(out);
  const sweep = JSON.parse(readFileSync(join(sd, 'sweep.json'), 'utf8'));
  assert.equal(sweep.trials.length, 2);
  assert.equal(sweep.evaluation.selected, sweep.trials[1].id);
  assert.equal(sweep.evaluation.id, `evaluate-${sweep.trials[1].id}`);
  const csv = readFileSync(join(sd, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 3, 'a header, two trials, the evaluation run');
  assert.match(csv[0]!, /^run,method,lr,rank,loss,perplexity,trainable_params,stored_params,percent_trainable,percent_stored,steps,wall_time,backend,status,run_dir$/);
  assert.ok(csv.slice(1).every((l) => /,done,/.test(l)), csv.join('\n'));
  // the evaluation run trained the selected trial on the evaluation split (8 validation rows, seed 2)
  const evalSummary = JSON.parse(readFileSync(join(sd, sweep.evaluation.id, 'summary.json'), 'utf8'));
  assert.equal(evalSummary.data.validation.examples, 8);
  const tuneSummary = JSON.parse(readFileSync(join(sd, sweep.trials[1].id, 'summary.json'), 'utf8'));
  assert.equal(tuneSummary.data.validation.examples, 4);
  const md = readFileSync(join(sd, 'results.md'), 'utf8');
  assert.match(md, /Best: `lr=0\.01 rank=2`/);
  assert.match(md, /\| `lr=0\.01 rank=2 \(evaluation\)` \|/);
  for (const f of ['loss-vs-params', 'train-loss', 'eval-loss', 'eval-perplexity']) {
    assert.match(readFileSync(join(sd, 'report', `${f}.svg`), 'utf8'), /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.deepEqual(readFileSync(join(sd, 'report', `${f}.png`)).subarray(0, 4), PNG);
  }
  const again = peftCli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^trials {2}2: 2 finished, 0 to run/m);
  assert.doesNotMatch(again.stdout, /^start/m);

  // peft report over the sweep and a lone run: one table with every run
  const rep = peftCli(['report', sd, join(sd, sweep.trials[0].id), '--out', join(dir, 'report'), '--json']);
  assert.equal(rep.code, 0, rep.stderr);
  const doc = JSON.parse(rep.stdout);
  assert.equal(doc.rows.length, 4);
  assert.ok(doc.rows.every((row: { trainable_params: number; stored_params: number }) => row.trainable_params === 2240 && row.stored_params === 2240));
  assert.ok(existsSync(join(dir, 'report', 'report.md')) && existsSync(join(dir, 'report', 'loss-vs-params.png')));
});

test('a sweep killed mid-trial resumes that trial from its checkpoint when the same command runs again', { timeout: 900_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-sweep-kill-'));
  const args = ['sweep', RECIPE, '--grid', 'optimizer.lr=0.005', '--grid', 'method.rank=4', '--set', 'training.max_steps=24', '--set', 'training.checkpoint_every=2', '--output', out];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, FORCE_COLOR: '0' } });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  // kill the sweep (SIGKILL: no chance to clean up) once its trial has written a checkpoint
  const deadline = Date.now() + 600_000;
  let checkpoint = false;
  while (!checkpoint && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 250));
    const d = join(out, 'sweep-e2e');
    if (!existsSync(d)) continue;
    checkpoint = readdirSync(d).some((s) => s.startsWith('sweep-') && readdirSync(join(d, s)).some((t) => existsSync(join(d, s, t, 'checkpoints')) && readdirSync(join(d, s, t, 'checkpoints')).some((c) => c.startsWith('step-'))));
  }
  assert.ok(checkpoint, 'the trial checkpointed');
  child.kill('SIGKILL');
  await exited;
  await new Promise((res) => setTimeout(res, 3000)); // the orphaned trial process notices and stops
  const r = peftCli(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^trials {2}1: 0 finished, 1 to run/m);
  assert.match(r.stdout, /resuming at step \d+\/24/);
  const sd = sweepDir(out);
  const [trial] = JSON.parse(readFileSync(join(sd, 'sweep.json'), 'utf8')).trials;
  const summary = JSON.parse(readFileSync(join(sd, trial.id, 'summary.json'), 'utf8'));
  assert.equal(summary.steps, 24);
  assert.match(summary.resumed_from, /checkpoints\/step-\d+$/);
  assert.equal(readFileSync(join(sd, 'results.csv'), 'utf8').trim().split('\n').length, 2);
});
