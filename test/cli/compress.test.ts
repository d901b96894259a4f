// `peft compress` on a trained run: bytes before and after, dev metrics before and after with
// --eval; the compressed adapter loads in eval, predict and merge as a plain one would, and
// --method unpack writes the decoded tensors back as a plain adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { trainRun } from '../helpers/trained-run.js';
import { openSafetensors } from '../../src/engine/io/safetensors.js';
import { openCompressed } from '../../src/engine/adapters/compress/packed-file.js';

test('compress a run: 1-bit quantisation and ComPEFT, bytes and dev metrics before/after; loads in predict and merge; unpack', () => {
  const run = trainRun();
  const q = join(run.dir, 'q1');
  const r = peftCli(['compress', run.runDir, '--method', 'quantize', '--bits', '1', '--out', q, '--eval', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.bytes_after < doc.bytes_before / 5, `1-bit: ${doc.bytes_before} → ${doc.bytes_after}`);
  assert.equal(doc.bytes_before, statSync(join(run.runDir, 'adapter', 'adapter_model.safetensors')).size);
  assert.equal(doc.bytes_after, statSync(join(q, 'adapter_compressed.safetensors')).size);
  assert.ok(!existsSync(join(q, 'adapter_model.safetensors')));
  assert.deepEqual(Object.keys(doc.metrics.before).sort(), Object.keys(doc.metrics.after).sort());
  assert.match(r.stderr, /bytes {6}.* → .*× smaller/);
  assert.match(r.stderr, /validation {2}loss .* → .*accuracy .* → /);
  assert.equal(doc.plain.tensors, 1, 'the task head stays float32');

  const c = join(run.dir, 'c10');
  const rc = peftCli(['compress', join(run.runDir, 'adapter'), '--method', 'compeft', '--density', '0.1', '--out', c, '--eval', run.recipe, '--json']);
  assert.equal(rc.code, 0, rc.stderr);
  const dc = JSON.parse(rc.stdout);
  assert.ok(dc.ratio > 8, `ComPEFT at 10%: ${dc.ratio}×`);
  assert.equal(dc.kept, Math.trunc(dc.compressed.entries * 0.1) + 1);

  // loads transparently: predict, and merge with the plain adapter
  const preds = join(run.dir, 'preds.jsonl');
  const p = peftCli(['predict', run.runDir, '--adapter', q, '--input', run.dev, '--output', preds]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readFileSync(preds, 'utf8').trim().split('\n').length, 20);
  const m = peftCli(['merge', q, c, '--method', 'task_arithmetic', '--weights', '0.5,0.5', '--head', '1', '--out', join(run.dir, 'merged'), '--json']);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(JSON.parse(m.stdout).adapters.map((a: { storage: string }) => a.storage), ['quantize', 'compeft']);

  // unpack: plain float32 tensors equal to the decoded ones
  const u = join(run.dir, 'unpacked');
  assert.equal(peftCli(['compress', q, '--method', 'unpack', '--out', u]).code, 0);
  const plain = openSafetensors(join(u, 'adapter_model.safetensors'));
  const packed = openCompressed(join(q, 'adapter_compressed.safetensors'));
  assert.deepEqual(plain.names().sort(), packed.names().sort());
  for (const n of plain.names()) assert.deepEqual(plain.read(n), packed.read(n), n);
});

test('compress: bad input is one line, exit 2', () => {
  const run = trainRun();
  const cases: [string[], RegExp][] = [
    [['--method', 'quantize', '--bits', '3'], /--bits 3: quantisation takes 1, 2, 4 or 8 bits/],
    [['--method', 'compeft', '--density', '1.5'], /density 1\.5 is outside \(0, 1\]/],
    [['--method', 'compeft', '--density', '0'], /density 0 is outside \(0, 1\]/],
    [['--method', 'quantize', '--bits', '1', '--density', '0.5'], /--density applies to --method compeft, not quantize/],
    [['--method', 'quantize'], /needs --bits/],
  ];
  for (const [args, re] of cases) {
    const r = peftCli(['compress', run.runDir, ...args, '--out', join(run.dir, 'x')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
