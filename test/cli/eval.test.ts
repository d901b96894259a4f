// `peft eval` as a user runs it: a run directory or a recipe, a split or any file, --json, exit
// codes, and bad data stopped with its place before the model is loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { trainRun, sst2Rows, type TrainedRun } from '../helpers/trained-run.js';

let run: TrainedRun;
test.before(() => {
  run = trainRun();
});

test('peft eval RUN_DIR --json reproduces the run\'s final validation metrics', () => {
  const r = peftCli(['eval', run.runDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.split, 'validation');
  assert.equal(doc.examples, 20);
  for (const k of ['loss', 'accuracy', 'f1', 'mcc']) {
    assert.ok(Math.abs(doc.metrics[k] - run.summary.after[k]) < 1e-5, `${k}: eval ${doc.metrics[k]}, training run ${run.summary.after[k]}`);
  }
});

test('peft eval RECIPE uses the recipe\'s latest run; text output names the split and metrics', () => {
  const r = peftCli(['eval', run.recipe]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^validation loss [\d.]+ {2}accuracy [\d.]+ {2}f1 [\d.]+ {2}mcc -?[\d.]+/m);
  assert.match(r.stdout, /^done {4}20 examples in/m);
});

test('peft eval --data FILE evaluates any file with the recipe\'s columns', () => {
  const file = join(run.dir, 'other.jsonl');
  writeFileSync(file, sst2Rows('dev', 40).slice(20).join('\n') + '\n');
  const r = peftCli(['eval', run.runDir, '--data', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.examples, 20);
  assert.equal(doc.split, 'data');
  assert.ok(doc.metrics.accuracy >= 0 && doc.metrics.accuracy <= 1);
});

test('a bad label in --data is one line with file:line, exit 2; --on-error skip counts it', () => {
  const file = join(run.dir, 'bad.jsonl');
  writeFileSync(file, ['{"text": "fine", "label": 1}', '{"text": "odd", "label": 7}', '{"text": "bad", "label": 0}'].join('\n') + '\n');
  const r = peftCli(['eval', run.runDir, '--data', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.jsonl:2 {2}label 7 in field "label" is not one of negative, positive/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(r.stdout, /^backend/m, 'stopped before the model was loaded');
  const s = peftCli(['eval', run.runDir, '--data', file, '--on-error', 'skip', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const doc = JSON.parse(s.stdout);
  assert.equal(doc.examples, 2);
  assert.equal(doc.skipped, 1);
});

test('usage and missing inputs: exit 2 with a hint', () => {
  const none = peftCli(['eval', join(run.dir, 'nowhere')]);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /nowhere {2}not a run directory/);
  const noTest = peftCli(['eval', run.runDir, '--split', 'test']);
  assert.equal(noTest.code, 2, noTest.stderr);
  assert.match(noTest.stderr, /the recipe has no data\.test/);
  const bad = peftCli(['eval', run.runDir, '--json', '--data', join(run.dir, 'missing.jsonl')]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.equal(JSON.parse(bad.stdout).ok, false);
});
