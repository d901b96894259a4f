// `peft train` as a user runs it: exit codes, what it prints, what it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';

const RECIPE = 'test/fixtures/e2e/tiny-lora.yaml';

test('peft train runs a recipe end to end and writes the run directory', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-cli-'));
  const r = peftCli(['train', RECIPE, '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const line of [/^backend \S+ \(\d+ threads?\)/m, /^method {2}lora: trainable params: [\d,]+ \|\| all params: 260,032/m,
    /^before {2}validation loss [\d.]+ {2}perplexity [\d.]+/m, /^after {3}validation loss/m, /^sample {2}ROMEO:/m, /^wrote {3}/m]) {
    assert.match(r.stdout, line);
  }
  const before = Number(/^before .*perplexity ([\d.]+)/m.exec(r.stdout)![1]);
  const after = Number(/^after .*perplexity ([\d.]+)/m.exec(r.stdout)![1]);
  assert.ok(after < before, `perplexity ${before} → ${after}`);
  const dir = /^wrote {3}(.*)$/m.exec(r.stdout)![1].trim();
  for (const f of ['recipe.resolved.yaml', 'metrics.jsonl', 'summary.json', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'loss.svg', 'loss.png']) {
    assert.ok(existsSync(join(dir, f)), f);
  }
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  assert.equal(summary.total_params, 260032);
  assert.equal(summary.steps, 24);
  assert.ok(summary.wall_time_s > 0);
  assert.equal(typeof summary.backend, 'string');
});

test('peft train --json prints one JSON document on stdout', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-cli-'));
  const r = peftCli(['train', RECIPE, '--output', out, '--json', '--set', 'training.max_steps=4']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.steps, 4);
  assert.ok(doc.after.perplexity > 0);
});

test('peft train --dry-run prints the resolved plan and computes nothing', () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-cli-'));
  const r = peftCli(['train', RECIPE, '--dry-run', '--output', out, '--set', 'method.rank=16']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rank: 16/);
  assert.match(r.stdout, /lora: lowrank r=16 alpha=8 at attn\.query, attn\.value/);
  assert.ok(!existsSync(join(out, 'tiny-lora')), 'no run directory');
  const j = peftCli(['train', RECIPE, '--dry-run', '--json']);
  assert.equal(JSON.parse(j.stdout).plan.method.modules[0].options.rank, 4);
});

test('a broken recipe is one line per error with its place, exit 2, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, readFileSync(RECIPE, 'utf8').replace(/backbone: .*\n/, 'backbone: {path: ./nowhere}\n').replace('rank: 4', 'rank: four'));
  const r = peftCli(['train', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml:\d+:\d+ {2}method\.rank {2}must be integer/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('an unknown --backend is a usage error naming the available ones', () => {
  const r = peftCli(['train', RECIPE, '--backend', 'tpu', '--output', mkdtempSync(join(tmpdir(), 'peft-cli-'))]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /tpu/);
  assert.match(r.stderr, /wasm/);
});
