// The sweep directory: created whole (sweep.json with the trials' parameter counts) or reused as
// it is; one local runner at a time, a stale lock (its runner killed) taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeftError } from '../../../src/errors.js';
import { planSweep } from '../../../src/recipes/index.js';
import { lockSweep, prepareSweepDir } from '../../../src/engine/sweep/prepare.js';
import { REPO } from '../../helpers/fixtures.js';

const RECIPE = join(REPO, 'test/fixtures/e2e/sweep.yaml');

test('a sweep directory is created whole, then reused; sweep.json holds the trials and their counts', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-prep-'));
  const s = planSweep({ recipes: [RECIPE], output: out });
  const first = prepareSweepDir(s);
  assert.equal(first.created, true);
  assert.deepEqual(readdirSync(join(out, 'sweep-e2e')), [`sweep-${s.id}`], 'no temporary directory left');
  const f = JSON.parse(readFileSync(join(s.dir, 'sweep.json'), 'utf8'));
  assert.equal(f.id, s.id);
  assert.equal(f.peft_version, JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  assert.deepEqual(f.trials.map((t: { trainable_params: number }) => t.trainable_params), [2240, 4480, 2240, 4480]);
  assert.deepEqual(f.select, { metric: 'loss', mode: 'min' });
  assert.equal(prepareSweepDir(s).created, false);
});

test('one runner per sweep: a live runner\'s lock refuses a second, a dead one\'s is taken over', async () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-lock-'));
  const s = planSweep({ recipes: [RECIPE], output: out });
  prepareSweepDir(s);
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    writeFileSync(join(s.dir, 'sweep.lock'), String(other.pid));
    assert.throws(() => lockSweep(s.dir), (e: unknown) => e instanceof PeftError && e.exitCode === 2 && new RegExp(`another peft sweep \\(pid ${other.pid}\\)`).test(e.message));
  } finally {
    other.kill('SIGKILL');
    await new Promise((res) => other.on('exit', res));
  }
  const unlock = lockSweep(s.dir);
  assert.equal(readFileSync(join(s.dir, 'sweep.lock'), 'utf8'), String(process.pid));
  unlock();
  assert.ok(!existsSync(join(s.dir, 'sweep.lock')));
});
