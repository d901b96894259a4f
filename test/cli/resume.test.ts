// Runs are never lost: a run killed with SIGKILL at random moments resumes from its last
// complete checkpoint and ends with an adapter bit-identical to an uninterrupted run's;
// Ctrl-C saves a checkpoint and says how to resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, peftCli } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';

const RECIPE = 'test/fixtures/e2e/resume.yaml';

function runDirs(out: string): string[] {
  const d = join(out, 'resume');
  return existsSync(d) ? readdirSync(d).map((r) => join(d, r)) : [];
}

interface Ended { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number; atMs: number | null }

/**
 * Starts `peft train`; kills it with `signal` `ms` after its stdout first matches `after` (or
 * after the start, without `after`), unless it ends first. `atMs`: when `after` matched.
 */
function runFor(args: string[], ms: number, signal: NodeJS.Signals, after?: RegExp): Promise<Ended> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    let atMs: number | null = null;
    let timer: NodeJS.Timeout | undefined = after ? undefined : setTimeout(() => child.kill(signal), ms);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (after && atMs === null && after.test(stdout)) {
        atMs = Date.now() - t0;
        timer = setTimeout(() => child.kill(signal), ms);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr, ms: Date.now() - t0, atMs });
    });
  });
}

/** The line `peft train` prints when its data is read: training starts right after. */
const TRAINING = /^data {4}train:/m;

test('SIGKILL at random moments, resumed each time, ends bit-identical to an uninterrupted run', { timeout: 900_000 }, async () => {
  const ref = mkdtempSync(join(tmpdir(), 'peft-ref-'));
  const r = await runFor(['train', RECIPE, '--output', ref], 600_000, 'SIGKILL', TRAINING);
  assert.equal(r.code, 0, r.stderr);
  const trainMs = r.ms - (r.atMs ?? 0);
  const refAdapter = readFileSync(join(runDirs(ref)[0], 'adapter', 'adapter_model.safetensors'));
  const refSummary = JSON.parse(readFileSync(join(runDirs(ref)[0], 'summary.json'), 'utf8'));

  const out = mkdtempSync(join(tmpdir(), 'peft-kill-'));
  // Kill moments from a fixed pseudo-random sequence (failures reproduce), timed from the moment
  // training starts — start-up time varies with the machine's load, the training phase less —
  // and short against the training phase so that many kills land inside one run; every third
  // kill lands during start-up instead (model and data loading, resume).
  let x = 12345;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % Math.max(1, Math.round(n));
  };
  let kills = 0;
  let resumedMidRun = 0;
  let finished = false;
  let first = true;
  for (let attempt = 0; attempt < 60 && !finished; attempt++) {
    const args = first ? ['train', RECIPE, '--output', out] : ['train', RECIPE, '--resume', '--output', out];
    const killing = kills < 10 || resumedMidRun < 3;
    const early = attempt % 3 === 2;
    const res = !killing
      ? await runFor(args, 600_000, 'SIGKILL')
      : early
        ? await runFor(args, 300 + rand(700), 'SIGKILL')
        : await runFor(args, rand(trainMs / 10), 'SIGKILL', TRAINING);
    if (/resuming from .*step-\d+/.test(res.stdout)) resumedMidRun++;
    if (res.signal === 'SIGKILL') {
      kills++;
      // the first attempt may die before its run directory exists; then start afresh
      if (runDirs(out).length > 0) first = false;
      continue;
    }
    assert.equal(res.code, 0, res.stderr);
    finished = true;
  }
  assert.ok(kills >= 10, `killed ${kills} times`);
  assert.ok(resumedMidRun >= 3, `resumed from a checkpoint ${resumedMidRun} times`);
  assert.ok(finished, 'the run finished');
  const dirs = runDirs(out);
  assert.equal(dirs.length, 1, 'every resume continued the same run');
  const adapter = readFileSync(join(dirs[0], 'adapter', 'adapter_model.safetensors'));
  assert.ok(adapter.equals(refAdapter), 'final adapter is bit-identical to the uninterrupted run');
  const summary = JSON.parse(readFileSync(join(dirs[0], 'summary.json'), 'utf8'));
  assert.equal(summary.steps, refSummary.steps);
  assert.equal(summary.final_train_loss, refSummary.final_train_loss);
});

test('Ctrl-C saves a checkpoint and says how to resume', { timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-int-'));
  // SIGINT once the fifth step is logged: the loop yields every step, so it stops long before step 150
  const res = await runFor(['train', RECIPE, '--output', out], 0, 'SIGINT', /^step 5\/150/m);
  assert.equal(res.code, 130, res.stderr);
  assert.match(res.stderr, /interrupted at step \d+\/150; checkpoint saved/);
  assert.match(res.stderr, /resume with: peft train --resume /);
  const dir = runDirs(out)[0];
  assert.ok(readdirSync(join(dir, 'checkpoints')).some((n) => /^step-\d+$/.test(n)));
  const again = peftCli(['train', '--resume', dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /resuming from .*step-\d+ \(step \d+\/150\)/);
});
