#!/usr/bin/env node
// Measures the selective methods on SST-2 (stories260K) next to LoRA and full fine-tuning, and
// writes docs/data/methods-selective.json (then: npx tsx scripts/methods-table.ts selective
// --columns …, see docs/methods.md). For each shipped recipe: train it (`peft train`, under
// /usr/bin/time for the peak RSS), read the dev accuracy of the adapter kept, the trainable and
// stored counts (`peft inspect` of the run: the adapter file's bytes), the tensor memory and the
// step time from metrics.jsonl; then merge the run into the backbone (`peft merge`) and measure
// the merged backbone's Tiny Shakespeare perplexity as a language model, against the pretrained
// backbone's: HFT's forgetting claim (full vs HFT vs LoRA), measured for every mergeable method.
// Usage: node scripts/selective-runs.mjs [substring ...] [--backend B] [--set key=value ...]
//        (after `npm run build`; --set overrides every training recipe alike, e.g. a shorter run
//        on a busy machine: --set data.train.limit=4000 --set training.epochs=1)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import os from 'node:os';

const RECIPES = [
  ['lora', 'configs/glue/sst2-lora.yaml'], ['full', 'configs/glue/sst2-full.yaml'],
  ['sara', 'configs/glue/sst2-sara.yaml'], ['hft', 'configs/glue/sst2-hft.yaml'], ['mask-tuning', 'configs/glue/sst2-mask-tuning.yaml'],
  ['spt', 'configs/glue/sst2-spt.yaml'], ['mosa', 'configs/glue/sst2-mosa.yaml'],
];
const LM = 'configs/lm/tinyshakespeare-lora.yaml';
const argv = process.argv.slice(2);
const bi = argv.indexOf('--backend');
const backend = bi >= 0 ? argv.splice(bi, 2)[1] : undefined;
const sets = [];
for (let i = argv.indexOf('--set'); i >= 0; i = argv.indexOf('--set')) sets.push('--set', argv.splice(i, 2)[1]);
const chosen = RECIPES.filter(([name]) => argv.length === 0 || argv.some((s) => name.includes(s)));
const out = join(os.tmpdir(), `peft-selective-${Date.now()}`);
mkdirSync(join(out, 'empty'), { recursive: true });
const dataFile = 'docs/data/methods-selective.json';

function peft(args, { time = false } = {}) {
  const cmd = time ? '/usr/bin/time' : process.execPath;
  const full = [...(time ? ['-f', 'peak_rss_kb %M', process.execPath] : []), 'bin/peft.js', ...args, '--json', ...(backend && args[0] !== 'inspect' ? ['--backend', backend] : [])];
  const r = spawnSync(cmd, full, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return { error: (r.stderr.trim().split('\n').filter((l) => !/^peak_rss_kb/.test(l)).pop() ?? `exit ${r.status}`) };
  const rss = /peak_rss_kb (\d+)/.exec(r.stderr ?? '');
  return { json: JSON.parse(r.stdout), peakRssMb: rss ? Number(rss[1]) / 1024 : null };
}

/** Median over the logged windows of Δelapsed / Δsteps (evaluation windows fall out as outliers). */
function stepMs(records) {
  const rates = [];
  for (let i = 1; i < records.length; i++) {
    const dt = records[i].elapsed_s - records[i - 1].elapsed_s;
    const ds = records[i].step - records[i - 1].step;
    if (ds > 0) rates.push((1000 * dt) / ds);
  }
  rates.sort((a, b) => a - b);
  return rates.length ? rates[Math.floor(rates.length / 2)] : null;
}

/** The Tiny Shakespeare perplexity of a backbone (with an adapter attached, for methods that do not merge). */
function perplexity(backbonePath, adapter) {
  const r = peft(['eval', LM, '--set', `backbone.path=${backbonePath}`, '--set', `output.dir=${join(out, 'empty')}`, ...(adapter ? ['--adapter', adapter] : [])]);
  if (r.error) process.stderr.write(`  perplexity: ${r.error}\n`);
  return r.error ? null : r.json.metrics.perplexity;
}

const rows = existsSync(dataFile) ? JSON.parse(readFileSync(dataFile, 'utf8')) : [];
const before = perplexity('assets/models/stories260K');
process.stderr.write(`Tiny Shakespeare perplexity of the pretrained backbone: ${before}\n`);
for (const [name, recipe] of chosen) {
  process.stderr.write(`${recipe} ...\n`);
  const t = peft(['train', recipe, '--output', out, ...sets], { time: true });
  if (t.error) throw new Error(`${recipe}: ${t.error}`);
  const s = t.json;
  const metrics = readFileSync(join(s.run_dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const train = metrics.filter((m) => m.type === 'train');
  const ins = peft(['inspect', s.run_dir]);
  const merged = peft(['merge', s.run_dir, '--out', join(out, `merged-${name}`)]);
  // a method that does not merge (MoSA's nonlinear adapter) is measured with its adapter attached
  const after = merged.error ? perplexity('assets/models/stories260K', join(s.run_dir, 'adapter')) : perplexity(join(out, `merged-${name}`));
  const row = {
    method: name, recipe,
    dev_accuracy: s.best?.value ?? s.after?.accuracy ?? null,
    trainable_params: s.trainable_params,
    stored_values: ins.error ? null : ins.json.stored_values,
    adapter_kb: ins.error ? null : Math.round(ins.json.bytes / 102.4) / 10,
    selected_entries: ins.error || !ins.json.selection ? null : ins.json.selection.entries,
    tensor_mb: train.length ? Math.max(...train.map((m) => m.tensor_mb ?? 0)) : null,
    peak_rss_mb: t.peakRssMb === null ? null : Math.round(t.peakRssMb),
    step_ms: stepMs(train),
    steps: s.steps,
    wall_s: Math.round(s.wall_time_s),
    ts_ppl_before: before,
    ts_ppl_after: after,
    ts_ppl_change: after === null || before === null ? null : after - before,
    ts_ppl_how: merged.error ? 'adapter attached' : 'merged',
    backend: s.backend, threads: s.threads, overrides: sets.filter((x) => x !== '--set').join(' ') || null,
  };
  const i = rows.findIndex((r) => r.method === name);
  if (i >= 0) rows[i] = row;
  else rows.push(row);
  rows.sort((a, b) => RECIPES.findIndex(([n]) => n === a.method) - RECIPES.findIndex(([n]) => n === b.method));
  writeFileSync(dataFile, JSON.stringify(rows, null, 2) + '\n');
  process.stderr.write(`  ${JSON.stringify(row)}\n`);
}
process.stderr.write(`wrote ${dataFile}; load average now ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
