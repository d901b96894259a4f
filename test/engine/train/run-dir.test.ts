// Run directories: a damaged record is one error naming the file; --resume's choice of run; the
// output path's failures are one line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunDir } from '../../../src/engine/train/run-dir.js';
import { PeftError } from '../../../src/errors.js';
import { makePlan, split } from '../../helpers/plans.js';

const TMP = mkdtempSync(join(tmpdir(), 'peft-run-dir-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const plan = makePlan({ task: { type: 'causal-lm' }, data: { train: split('/data/train.txt') } });

function rejects(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PeftError && e.code === code && message.test(e.message) && Boolean(e.hint));
}

test('the recorded plan reads back; empty, cut or reshaped records are one FORMAT error', () => {
  const run = RunDir.create(join(TMP, 'a'), 'x');
  run.writePlan(plan);
  assert.deepEqual(run.readPlan(), plan);
  const file = join(run.path, 'recipe.resolved.yaml');
  for (const [text, message] of [
    ['', /incomplete: holds nothing/],
    ['name: x\n', /incomplete: seed is missing/],
    ['a: [\n', /not valid YAML at line \d+, column \d+/],
  ] as const) {
    writeFileSync(file, text);
    rejects(() => run.readPlan(), 'FORMAT', message);
  }
});

test('--resume candidates: the latest run with a checkpoint or an adapter', () => {
  const out = join(TMP, 'b');
  const good = RunDir.create(out, 'x', new Date(2020, 0, 1));
  good.writePlan(plan);
  mkdirSync(join(good.checkpointsDir, 'step-4'), { recursive: true });
  writeFileSync(join(good.checkpointsDir, 'step-4', 'trainer_state.json'), '{}');
  const failed = RunDir.create(out, 'x', new Date(2021, 0, 1));
  failed.writePlan(plan);
  assert.equal(RunDir.latest(out, 'x')?.path, failed.path);
  assert.equal(RunDir.latestResumable(out, 'x')?.path, good.path);
  assert.equal(RunDir.latestWithAdapter(out, 'x'), null);
  assert.equal(RunDir.latestResumable(out, 'nothing'), null);
});

test('opening and creating: a file, a missing directory, an output path through a file', () => {
  const f = join(TMP, 'file');
  writeFileSync(f, 'x');
  rejects(() => RunDir.open(f), 'FILE', /is a file, not a run directory/);
  rejects(() => RunDir.open(join(TMP, 'nope')), 'FILE', /no such run directory/);
  rejects(() => RunDir.create(f, 'x'), 'FILE', /cannot create the run directory: a path on the way is a file/);
});
