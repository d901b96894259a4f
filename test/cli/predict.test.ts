// `peft predict` as a user runs it: one JSON line per input row, in order, written atomically;
// bad rows stop it with file:line (no output left behind) or become error lines under skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { trainRun, sst2Rows, type TrainedRun } from '../helpers/trained-run.js';

let run: TrainedRun;
test.before(() => {
  run = trainRun();
});

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

test('peft predict writes a label and probabilities per row, in order, unlabelled rows welcome', () => {
  const input = join(run.dir, 'in.jsonl');
  const rows = sst2Rows('dev', 11).map((l) => ({ text: JSON.parse(l).text }));
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const output = join(run.dir, 'preds', 'out.jsonl');
  const r = peftCli(['predict', run.runDir, '--input', input, '--output', output, '--batch-size', '4']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^predict 11\/11/m, 'plain progress lines when not on a terminal');
  assert.match(r.stdout, /^done {4}11 of 11 rows predicted/m);
  const out = lines(output);
  assert.equal(out.length, 11);
  for (const p of out) {
    assert.ok(['negative', 'positive'].includes(p.label), JSON.stringify(p));
    assert.equal(p.label_id, p.label === 'negative' ? 0 : 1);
    const probs = Object.values(p.probs as Record<string, number>);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(p.label, p.probs.positive > p.probs.negative ? 'positive' : 'negative');
  }
  // the same predictions in one batch as in batches of 4
  const again = join(run.dir, 'preds', 'again.jsonl');
  assert.equal(peftCli(['predict', run.runDir, '--input', input, '--output', again, '--json']).code, 0);
  lines(again).forEach((p, i) => assert.ok(Math.abs(p.probs.positive - out[i].probs.positive) < 1e-5));
});

test('rows of very different lengths run in batches of similar length; each line is still its input row\'s prediction', () => {
  const input = join(run.dir, 'mixed.jsonl');
  const texts = sst2Rows('dev', 12).map((l) => JSON.parse(l).text as string);
  // alternate very short and long rows, so that file-order batches would pad a lot
  const rows = texts.map((t, i) => ({ text: i % 2 === 0 ? t.split(' ').slice(0, 2).join(' ') : `${t} ${t} ${t}` }));
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const sorted = join(run.dir, 'mixed', 'sorted.jsonl');
  const single = join(run.dir, 'mixed', 'single.jsonl');
  assert.equal(peftCli(['predict', run.runDir, '--input', input, '--output', sorted, '--batch-size', '3', '--json']).code, 0);
  assert.equal(peftCli(['predict', run.runDir, '--input', input, '--output', single, '--batch-size', '1', '--json']).code, 0);
  const a = lines(sorted);
  const b = lines(single);
  assert.equal(a.length, 12);
  a.forEach((p, i) => {
    assert.equal(p.label, b[i].label, `row ${i}`);
    assert.ok(Math.abs(p.probs.positive - b[i].probs.positive) < 1e-5, `row ${i}: ${p.probs.positive} vs ${b[i].probs.positive}`);
  });
});

test('a bad row stops predict with file:line and leaves no output; --on-error skip writes an error line in its place', () => {
  const input = join(run.dir, 'bad.jsonl');
  writeFileSync(input, ['{"text": "a fine film"}', '{"text": 12}', 'not json', '{"text": "dull"}'].join('\n') + '\n');
  const output = join(run.dir, 'bad-out', 'out.jsonl');
  const r = peftCli(['predict', run.runDir, '--input', input, '--output', output]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.jsonl:2 {2}field "text" is 12, not text/);
  assert.ok(!existsSync(output), 'no output file');
  assert.deepEqual(readdirSync(join(run.dir, 'bad-out')), [], 'no temporary file left');
  const s = peftCli(['predict', run.runDir, '--input', input, '--output', output, '--on-error', 'skip', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const doc = JSON.parse(s.stdout);
  assert.deepEqual([doc.rows, doc.predicted, doc.skipped], [4, 2, 2]);
  const out = lines(output);
  assert.equal(out.length, 4);
  assert.ok(out[0].label && out[3].label);
  assert.match(out[1].where, /bad\.jsonl:2$/);
  assert.match(out[2].error, /invalid JSON/);
});

test('usage errors: exit 2', () => {
  assert.equal(peftCli(['predict', run.runDir, '--output', join(run.dir, 'x.jsonl')]).code, 2);
  const missing = peftCli(['predict', run.runDir, '--input', join(run.dir, 'nope.jsonl'), '--output', join(run.dir, 'x.jsonl')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.jsonl {2}input file not found/);
});
