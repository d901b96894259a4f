// `peft adapt-test` through the CLI on a digits ResNet trained from scratch for a few steps
// (configs/vision/digits-resnet.yaml, init: random): accuracy before and after on labelled MNIST
// rows, one JSON line per row written atomically, predictions only for unlabelled rows, and its
// usage errors (exit 2, one line with a hint).
import { openSafetensors } from '../../src/engine/io/safetensors.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO } from '../helpers/fixtures.js';
import { peftCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'peft-adapt-cli-'));
const recipe = join(dir, 'digits.yaml');
writeFileSync(recipe, [
  `extends: ${join(REPO, 'configs', 'vision', 'digits-resnet.yaml')}`,
  'name: digits-tiny',
  `data: {train: {path: ${join(REPO, 'assets', 'data', 'digits', 'optdigits.tra')}, limit: 160}}`,
  'training: {max_steps: 3, batch_size: 32, eval_every: null, log_every: 1}',
  'eval: {limit: 32}',
  `output: {dir: ${join(dir, 'runs')}}`,
  '',
].join('\n'));
const mnist = join(REPO, 'assets', 'data', 'digits', 'mnist-2000-images-idx3-ubyte.gz');
let runDir = '';

test('a digits ResNet trained from a random init through the CLI', () => {
  const r = peftCli(['train', recipe, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  runDir = s.run_dir;
  assert.equal(s.steps, 3);
  assert.ok(existsSync(join(runDir, 'adapter', 'adapter_model.safetensors')));
  const cfg = JSON.parse(readFileSync(join(runDir, 'adapter', 'adapter_config.json'), 'utf8'));
  // listed by module, as Python peft does; the module's moving statistics are saved with its weights
  assert.ok(cfg.modules_to_save.includes('resnet.embedder.embedder.normalization'), 'full training saves the batch-norm module');
  const names = openSafetensors(join(runDir, 'adapter', 'adapter_model.safetensors')).names();
  assert.ok(names.some((n) => n.endsWith('resnet.embedder.embedder.normalization.running_mean')), 'full training saves the moved batch-norm statistics');
});

test('adapt-test bn-stats: accuracy before and after, one line per row with the source prediction beside it', () => {
  const out = join(dir, 'bn.jsonl');
  const r = peftCli(['adapt-test', runDir, '--data', mnist, '--method', 'bn-stats', '--limit', '64', '--batch-size', '32', '--output', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.ok, j.method, j.mode, j.examples, j.labelled], [true, 'bn-stats', 'online', 64, true]);
  assert.ok(j.before.accuracy >= 0 && j.before.accuracy <= 1 && j.after.accuracy >= 0 && j.after.accuracy <= 1);
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 64);
  assert.deepEqual(Object.keys(rows[0]).sort(), ['before', 'label', 'label_id', 'probs', 'reference', 'where']);
  assert.equal(rows[0].probs.length, 10);
  const labels = gunzipSync(readFileSync(join(REPO, 'assets', 'data', 'digits', 'mnist-2000-labels-idx1-ubyte.gz')));
  assert.equal(rows[5].reference, String(labels[8 + 5]));
  const acc = rows.filter((x) => x.label === x.reference).length / 64;
  assert.ok(Math.abs(acc - j.after.accuracy) < 1e-9);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test('offline TENT, and unlabelled rows: predictions only, no scores', () => {
  const rows = join(dir, 'unlabelled.jsonl');
  const img = Array.from({ length: 64 }, (_, i) => (i * 7) % 17);
  writeFileSync(rows, Array.from({ length: 10 }, () => JSON.stringify({ image: img, shape: [8, 8] })).join('\n') + '\n');
  const r = peftCli(['adapt-test', runDir, '--data', rows, '--method', 'tent', '--mode', 'offline', '--steps', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.labelled, j.before, j.after, j.mode], [false, null, null, 'offline']);
  assert.ok(j.output.endsWith(join('tta', 'tent-offline.jsonl')), 'default output inside the run');
  const first = JSON.parse(readFileSync(j.output, 'utf8').split('\n')[0]);
  assert.equal(first.reference, undefined);
});

test('usage errors: exit 2 with the reason and a hint', () => {
  const noOffline = peftCli(['adapt-test', runDir, '--data', mnist, '--method', 'lame', '--mode', 'offline']);
  assert.equal(noOffline.code, 2);
  assert.match(noOffline.stderr, /lame has no offline mode: LAME adjusts the outputs of each test batch.*hint: use --mode online/s);
  const noData = peftCli(['adapt-test', runDir, '--method', 'tent']);
  assert.equal(noData.code, 2);
  assert.match(noData.stderr, /name the test file: --data FILE/);
  const unknown = peftCli(['adapt-test', runDir, '--data', mnist, '--method', 'tnet']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Choices: "none", "bn-stats", "alpha-bn", "tent", "lame", "label-shift"/);
  const badAlpha = peftCli(['adapt-test', runDir, '--data', mnist, '--method', 'alpha-bn', '--alpha', '2', '--limit', '8']);
  assert.equal(badAlpha.code, 2);
  assert.match(badAlpha.stderr, /--alpha must be between 0 and 1/);
});
