#!/usr/bin/env node
// Trains the vision PEFT recipes (MobileNetV2 on optdigits: head only, LoRA on the 1×1
// convolutions, adapters between blocks, FLoRA, batch-norm tuning) one after another, keeps
// every figure in bench/vision-peft.json, writes the rows of docs/methods.md's vision table to
// docs/data/methods-vision.json and renders it (scripts/methods-table.ts vision).
// Usage (after `npm run build`):
//   node scripts/vision/peft-table.mjs [substring ...] [--backend B] [--work DIR] [--table-only]
// Runs go to DIR/runs (default: a temporary folder); the TTA script reuses the head-only one.
// --table-only re-renders the table from bench/vision-peft.json without training.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import os from 'node:os';

const RECIPES = ['head', 'lora', 'adapter', 'flora', 'bn'].map((m) => `configs/vision/digits-mobilenetv2-${m}.yaml`);
const LABELS = {
  head: 'head only', lora: 'LoRA r=8 on the 1×1 convolutions and dense layers', adapter: 'bottleneck adapters (16) after the residual blocks',
  flora: 'FLoRA r=8 (Tucker core) on the full convolutions', bn: 'batch-norm tuning (γ, β)',
};
const argv = process.argv.slice(2);
const take = (flag) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv.splice(i, 2)[1] : undefined;
};
const backend = take('--backend');
const work = take('--work') ?? join(os.tmpdir(), 'peft-vision');
const tableOnly = argv.includes('--table-only');
if (tableOnly) argv.splice(argv.indexOf('--table-only'), 1);
const chosen = tableOnly ? [] : RECIPES.filter((r) => argv.length === 0 || argv.some((s) => r.includes(s)));
mkdirSync(join(work, 'runs'), { recursive: true });

const resultsFile = 'bench/vision-peft.json';
const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { runs: {} };
for (const recipe of chosen) {
  process.stderr.write(`${recipe} ...\n`);
  const args = ['bin/peft.js', 'train', recipe, '--output', join(work, 'runs'), '--json', ...(backend ? ['--backend', backend] : [])];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(r.status ?? 1);
  }
  const s = JSON.parse(r.stdout);
  const inspect = JSON.parse(spawnSync(process.execPath, ['bin/peft.js', 'inspect', recipe, '--json'], { encoding: 'utf8' }).stdout);
  results.runs[recipe] = {
    run_dir: s.run_dir, backend: s.backend, threads: s.threads, steps: s.steps, wall_time_s: s.wall_time_s, command_s: (Date.now() - t0) / 1000,
    trainable_params: s.trainable_params, stored_params: inspect.stored_params, backbone_params: inspect.total_params,
    before: s.before, after: s.after, best: s.best, validation_examples: s.data.validation?.examples ?? null,
  };
  results.date = new Date().toISOString().slice(0, 10);
  results.cpu = os.cpus()[0]?.model;
  results.load_note = `load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} (machine shared with other jobs: times are noisy)`;
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
}

const rows = [];
for (const recipe of RECIPES) {
  const r = results.runs[recipe];
  if (!r) continue;
  const m = /mobilenetv2-(\w+)\.yaml/.exec(recipe)[1];
  rows.push({
    method: LABELS[m], recipe: `\`${recipe}\``, accuracy: `${(100 * (r.best?.value ?? r.after.accuracy)).toFixed(1)}%`,
    before: `${(100 * r.before.accuracy).toFixed(1)}%`, trainable: r.trainable_params,
    percent: `${((100 * r.trainable_params) / r.backbone_params).toFixed(2)}%`, steps: r.steps,
    s_per_step: Number((r.wall_time_s / r.steps).toFixed(2)), backend: r.backend,
  });
}
mkdirSync('docs/data', { recursive: true });
writeFileSync('docs/data/methods-vision.json', JSON.stringify(rows, null, 2) + '\n');
const render = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/methods-table.ts', 'vision', '--columns',
  'method:method,recipe:recipe,accuracy:validation accuracy,before:before training,trainable:trainable params,percent:% of backbone,steps:steps,s_per_step:s/step,backend:backend'],
{ encoding: 'utf8' });
process.stdout.write(render.stdout);
process.stderr.write(render.stderr);
