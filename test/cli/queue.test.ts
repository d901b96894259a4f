// Sweeps beyond one machine: trials on a BullMQ queue in a real redis-server, taken by `peft worker`
// processes. A worker killed with SIGKILL mid-trial loses nothing: the trial is retried by another
// worker and resumes from its checkpoint (the output directory is shared here), and every trial
// is in the table once. An unreachable queue and a worker of another peft version: exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BIN, peftCli } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';
import { freePort, SKIP_NO_REDIS, startRedis } from '../helpers/redis.js';

const RECIPE = join(REPO, 'test/fixtures/e2e/sweep.yaml');

function startWorker(url: string, name: string, concurrency: number): { proc: ChildProcess; log: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--queue-name', name, '--concurrency', String(concurrency)], { cwd: REPO, env: { ...process.env, FORCE_COLOR: '0' } });
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  return { proc, log: () => log, exited };
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('an unreachable queue: one line, exit 2, no sweep directory; a worker too', { skip: SKIP_NO_REDIS }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-queue-none-'));
  const url = `redis://127.0.0.1:${await freePort()}`;
  const r = peftCli(['sweep', RECIPE, '--output', out, '--queue', url]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr.trim(), new RegExp(`^error: cannot reach the queue at ${url} \\(ECONNREFUSED\\) \\(hint: is redis-server running there\\?`));
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.deepEqual(readdirSync(out), []);
  const w = peftCli(['worker', '--queue', url]);
  assert.equal(w.code, 2, w.stderr);
  assert.match(w.stderr, /cannot reach the queue/);
});

test('a worker killed with SIGKILL mid-trial: the trial is retried, resumes from its checkpoint, counted once', { skip: SKIP_NO_REDIS, timeout: 1_200_000 }, async () => {
  const redis = await startRedis();
  const workers: ChildProcess[] = [];
  try {
    const out = mkdtempSync(join(tmpdir(), 'peft-queue-'));
    const name = 'kill';
    const args = ['sweep', RECIPE, '--grid', 'method.rank=4', '--set', 'training.max_steps=24', '--set', 'training.checkpoint_every=2', '--output', out, '--queue', redis.url, '--queue-name', name];
    const enq = peftCli(args);
    assert.equal(enq.code, 0, enq.stderr);
    assert.match(enq.stdout, /2 trial\(s\) enqueued, 0 already there/);
    assert.equal(peftCli(args).stdout.match(/0 trial\(s\) enqueued, 2 already there/)?.length, 1, 'the same command enqueues nothing twice');

    const a = startWorker(redis.url, name, 1);
    workers.push(a.proc);
    // wait for a checkpoint of the trial worker A runs, then kill A without warning
    const sweepDir = join(out, 'sweep-e2e', readdirSync(join(out, 'sweep-e2e'))[0]!);
    let killedTrial: string | null = null;
    for (const t0 = Date.now(); !killedTrial && Date.now() - t0 < 600_000;) {
      await new Promise((res) => setTimeout(res, 250));
      killedTrial = readdirSync(sweepDir).find((t) => existsSync(join(sweepDir, t, 'checkpoints')) && readdirSync(join(sweepDir, t, 'checkpoints')).some((c) => c.startsWith('step-'))) ?? null;
    }
    assert.ok(killedTrial, `worker A checkpointed a trial\n${a.log()}`);
    a.proc.kill('SIGKILL');
    await a.exited;
    assert.ok(!existsSync(join(sweepDir, killedTrial!, 'summary.json')), 'killed before the end of its trial');

    const st = peftCli([...args.filter((x) => x !== '--queue' && x !== redis.url && x !== '--queue-name' && x !== name), '--queue', redis.url, '--queue-name', name, '--status']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^trials {2}.*(active|waiting)/m);

    const b = startWorker(redis.url, name, 2);
    workers.push(b.proc);
    const wait = await runCli([...args, '--wait']);
    assert.equal(wait.code, 0, `${wait.stderr}\n${b.log()}`);
    assert.match(wait.stdout, /^trials {2}2 completed$/m);
    const summary = JSON.parse(readFileSync(join(sweepDir, killedTrial!, 'summary.json'), 'utf8'));
    assert.equal(summary.steps, 24);
    assert.match(summary.resumed_from ?? '', /checkpoints\/step-\d+$/, 'worker B resumed from worker A\'s checkpoint');
    assert.match(b.log(), /resuming at step \d+\/24/);
    const csv = readFileSync(join(sweepDir, 'results.csv'), 'utf8').trim().split('\n').slice(1);
    assert.equal(csv.length, 2, 'each trial once');
    assert.equal(new Set(csv.map((l) => l.split(',')[0])).size, 2);
    assert.ok(csv.every((l) => /,done,/.test(l)));
    const status = peftCli([...args, '--status', '--json']);
    const doc = JSON.parse(status.stdout);
    assert.deepEqual(doc.trials.map((t: { state: string }) => t.state), ['completed', 'completed']);
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    await redis.stop();
  }
});

test('a worker of another peft version than the queue\'s sweep: one line, exit 2', { skip: SKIP_NO_REDIS, timeout: 300_000 }, async () => {
  const redis = await startRedis();
  try {
    const out = mkdtempSync(join(tmpdir(), 'peft-queue-ver-'));
    const enq = peftCli(['sweep', RECIPE, '--output', out, '--queue', redis.url, '--queue-name', 'ver']);
    assert.equal(enq.code, 0, enq.stderr);
    const r = new Redis(redis.url);
    await r.set('peft:ver:version', '0.0.0-other'); // as if the sweep had been planned by another release
    r.disconnect();
    const w = peftCli(['worker', '--queue', redis.url, '--queue-name', 'ver']);
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr.trim(), /^error: this worker runs peft \d+\.\d+\.\d+\S*, the queue's sweep was planned by peft 0\.0\.0-other \(hint: install the same peft version/);
    // and a sweep of this version does not mix into a queue busy with another version's trials
    const mix = peftCli(['sweep', RECIPE, '--output', out, '--queue', redis.url, '--queue-name', 'ver', '--grid', 'method.rank=8']);
    assert.equal(mix.code, 2, mix.stderr);
    assert.match(mix.stderr, /queue ver holds trials of peft 0\.0\.0-other/);
  } finally {
    await redis.stop();
  }
});
