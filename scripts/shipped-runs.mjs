#!/usr/bin/env node
// Trains the shipped task recipes (GLUE on stories260K, Tiny Shakespeare LM) one after another
// and prints the README's table: the dev metric each reached, the majority-class baseline, steps
// and wall time. Writes the figures to bench/shipped-runs.json.
// Usage: node scripts/shipped-runs.mjs [substring ...] [--backend B]   (after `npm run build`)
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import os from 'node:os';

const RECIPES = [
  'configs/glue/sst2-lora.yaml', 'configs/glue/sst2-adapter.yaml',
  'configs/glue/rte-lora.yaml', 'configs/glue/rte-adapter.yaml',
  'configs/glue/mrpc-lora.yaml', 'configs/glue/mrpc-adapter.yaml',
  'configs/glue/cola-lora.yaml', 'configs/glue/cola-adapter.yaml',
  'configs/lm/tinyshakespeare-lora.yaml',
];
const argv = process.argv.slice(2);
const bi = argv.indexOf('--backend');
const backend = bi >= 0 ? argv.splice(bi, 2)[1] : undefined;
const chosen = RECIPES.filter((r) => argv.length === 0 || argv.some((s) => r.includes(s)));
const outDir = join(os.tmpdir(), `peft-shipped-${Date.now()}`);
mkdirSync(outDir, { recursive: true });

/** Share of the most frequent label among the dev rows (what always guessing it scores). */
function majority(path) {
  const labels = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).label);
  const counts = new Map();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

const resultsFile = 'bench/shipped-runs.json';
const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { runs: {} };
for (const recipe of chosen) {
  process.stderr.write(`${recipe} ...\n`);
  const args = ['bin/peft.js', 'train', recipe, '--output', outDir, '--json', ...(backend ? ['--backend', backend] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(r.status ?? 1);
  }
  const s = JSON.parse(r.stdout);
  const task = /glue\/(\w+)-/.exec(recipe)?.[1];
  const dev = task ? join('assets', 'data', task, 'dev.jsonl') : null;
  results.runs[recipe] = {
    backend: s.backend, threads: s.threads, steps: s.steps, wall_time_s: s.wall_time_s,
    trainable_params: s.trainable_params, before: s.before, after: s.after, best: s.best,
    dev_examples: s.data.validation?.examples ?? null, majority: dev ? majority(dev) : null,
  };
  results.date = new Date().toISOString().slice(0, 10);
  results.cpu = os.cpus()[0]?.model;
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
}

const fmt = (v) => (v === undefined || v === null ? '–' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));
const time = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${Math.round(s)} s`);
console.log('| recipe | dev metric (after) | before training | majority class | steps | wall time |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [recipe, r] of Object.entries(results.runs)) {
  const keys = Object.keys(r.after).filter((k) => k !== 'loss');
  const show = (m) => keys.map((k) => `${k} ${fmt(m?.[k])}`).join(', ');
  console.log(`| \`${recipe}\` | ${show(r.after)} | ${show(r.before)} | ${r.majority === null ? '–' : fmt(r.majority)} | ${r.steps} | ${time(r.wall_time_s)} (${r.backend}) |`);
}
