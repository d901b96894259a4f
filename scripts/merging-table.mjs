#!/usr/bin/env node
// Rebuilds the measured tables of docs/merging.md: trains LoRA adapters for SST-2, MRPC, CoLA and
// RTE on stories260K (configs/glue/*-lora.yaml, and configs/merging/*-orthogonal.yaml), merges them
// by every method of `peft merge` (the merged body with each task's own head, `--head`), evaluates
// every merge on every task's dev set, compresses each adapter (ComPEFT, 1/2/4/8-bit) and
// evaluates those, then writes docs/data/merging.json and the tables between the markers of
// docs/merging.md. Training runs through the CLI (bin/peft.js); merges, compressions and the ~130
// evaluations call the same engine functions the CLI calls (dist/), in this one process.
// Usage (after `npm run build`): node scripts/merging-table.mjs [--runs DIR] [--reuse] [--backend B]
//   --runs DIR   where the training runs go (default runs/merging)
//   --reuse      use the latest run of each recipe under DIR instead of training again
//   --smoke      a few steps and 16 dev rows each, output in a temporary folder (checks the script)
//   --render F   only redraw the tables of docs/merging.md from a results file F (docs/data/merging.json)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import os from 'node:os';
import { combineRun, compressAdapter, evaluateRun, resolveRunTarget } from '../dist/engine/index.js';
import { validateRecipeFile } from '../dist/recipes/index.js';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const RUNS = resolve(opt('--runs', 'runs/merging'));
const REUSE = argv.includes('--reuse');
const BACKEND = opt('--backend', undefined);
const SMOKE = argv.includes('--smoke');
const WORK = mkdtempSync(join(os.tmpdir(), 'peft-merging-'));
const DATA = SMOKE ? join(WORK, 'merging.json') : 'docs/data/merging.json';
const DOC = SMOKE ? join(WORK, 'merging.md') : 'docs/merging.md';
if (SMOKE) writeFileSync(DOC, readFileSync('docs/merging.md', 'utf8'));
const TRAIN_SETS = SMOKE ? ['--set', 'training.max_steps=3', '--set', 'eval.limit=16'] : [];
const EVAL_SETS = SMOKE ? ['--set', 'eval.limit=16'] : [];

const TASKS = [
  { name: 'sst2', label: 'SST-2', metric: 'accuracy' },
  { name: 'mrpc', label: 'MRPC', metric: 'accuracy' },
  { name: 'cola', label: 'CoLA', metric: 'mcc' },
  { name: 'rte', label: 'RTE', metric: 'accuracy' },
];
const recipeOf = (task, kind) => (kind === 'plain' ? `configs/glue/${task}-lora.yaml` : `configs/merging/${task}-${kind}.yaml`);

// The merges of the table: Python peft's rules with the densities and weights their papers use by
// default (TIES: keep 20 %, λ = 1; DARE: keep 50 %, rescaled; PCB: ratio 0.2, λ = 1), averaging as
// the "averaging" baseline (weights 1/n) and task arithmetic at λ = 1 and 0.5.
const N = TASKS.length;
const ones = (w) => TASKS.map(() => w).join(',');
const MERGES = [
  { id: 'linear-avg', method: 'linear', weights: ones(1 / N), what: 'linear (peft, factor-wise), weights 1/n' },
  { id: 'task_arithmetic-1', method: 'task_arithmetic', weights: ones(1), what: 'task arithmetic Σ ΔW, λ = 1 (= cat)' },
  { id: 'task_arithmetic-0.5', method: 'task_arithmetic', weights: ones(0.5), what: 'task arithmetic, λ = 0.5' },
  { id: 'svd', method: 'svd', weights: ones(1), extra: ['--exact'], what: 'svd: task arithmetic truncated to rank 8 (--exact)' },
  { id: 'ties', method: 'ties', weights: ones(1), extra: ['--density', '0.2'], what: 'ties (peft, factor-wise), density 0.2' },
  { id: 'ties_svd', method: 'ties_svd', weights: ones(1), extra: ['--density', '0.2', '--exact'], what: 'TIES on ΔW, density 0.2, rank 8' },
  { id: 'magnitude_prune', method: 'magnitude_prune', weights: ones(1), extra: ['--density', '0.2'], what: 'magnitude prune (factor-wise), density 0.2' },
  { id: 'dare_linear', method: 'dare_linear', weights: ones(1), extra: ['--density', '0.5'], what: 'DARE + task arithmetic (factor-wise), density 0.5' },
  { id: 'dare_ties', method: 'dare_ties', weights: ones(1), extra: ['--density', '0.5'], what: 'DARE + TIES (factor-wise), density 0.5' },
  { id: 'pcb', method: 'pcb', weights: ones(1), extra: ['--density', '0.2', '--rank', '32'], what: 'PCB on ΔW, ratio 0.2, rank 32' },
];
const ORTHO_MERGES = ['linear-avg', 'task_arithmetic-1', 'task_arithmetic-0.5', 'ties_svd'];
const COMPRESSIONS = [
  { id: 'compeft-0.05', args: ['--method', 'compeft', '--density', '0.05'], what: 'ComPEFT, keep 5 %, α = std' },
  { id: 'compeft-0.1', args: ['--method', 'compeft', '--density', '0.1'], what: 'ComPEFT, keep 10 %, α = std' },
  { id: 'compeft-0.1-a2', args: ['--method', 'compeft', '--density', '0.1', '--alpha', '2'], what: 'ComPEFT, keep 10 %, α = 2·std' },
  { id: 'compeft-0.2', args: ['--method', 'compeft', '--density', '0.2'], what: 'ComPEFT, keep 20 %, α = std' },
  { id: 'q8', args: ['--method', 'quantize', '--bits', '8'], what: '8-bit, per tensor' },
  { id: 'q4', args: ['--method', 'quantize', '--bits', '4'], what: '4-bit, per tensor' },
  { id: 'q2', args: ['--method', 'quantize', '--bits', '2'], what: '2-bit, per tensor' },
  { id: 'q1', args: ['--method', 'quantize', '--bits', '1'], what: '1-bit, per tensor (the paper)' },
  { id: 'q2c', args: ['--method', 'quantize', '--bits', '2', '--granularity', 'channel'], what: '2-bit, per channel (ours)' },
  { id: 'q1c', args: ['--method', 'quantize', '--bits', '1', '--granularity', 'channel'], what: '1-bit, per channel (ours)' },
];

function peft(args) {
  const all = ['bin/peft.js', ...args, '--json', ...(BACKEND ? ['--backend', BACKEND] : [])];
  const r = spawnSync(process.execPath, all, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    process.stderr.write(`peft ${args.join(' ')}\n${r.stderr}`);
    process.exit(r.status ?? 1);
  }
  return JSON.parse(r.stdout);
}

function latestRun(name) {
  const dir = join(RUNS, name);
  if (!existsSync(dir)) return null;
  const runs = readdirSync(dir).sort().reverse().map((d) => join(dir, d)).filter((d) => existsSync(join(d, 'adapter', 'adapter_config.json')));
  return runs[0] ?? null;
}

const results = { date: new Date().toISOString().slice(0, 10), cpu: os.cpus()[0]?.model, tasks: TASKS, runs: {}, individual: {}, base: {}, merges: {}, orthogonal: {}, compression: {} };

function train(task, kind) {
  const recipe = recipeOf(task.name, kind);
  const name = kind === 'plain' ? `${task.name}-lora` : `${task.name}-${kind}`;
  let runDir = REUSE ? latestRun(name) : null;
  let wall = null;
  if (!runDir) {
    process.stderr.write(`train ${recipe} ...\n`);
    const s = peft(['train', recipe, '--output', SMOKE ? join(WORK, 'runs') : RUNS, ...TRAIN_SETS]);
    runDir = s.run_dir;
    wall = s.wall_time_s;
  }
  results.runs[`${task.name}/${kind}`] = { recipe, run_dir: runDir, wall_time_s: wall };
  return runDir;
}

/** The plan of a recipe, as the CLI plans it (with --set overrides). */
function planFile(file, sets) {
  const v = validateRecipeFile(file, { sets });
  if (!v.plan) throw new Error(`${file}: ${v.issues.map((i) => i.message).join('; ')}`);
  return v.plan;
}

async function evaluate(task, adapter) {
  const target = resolveRunTarget(recipeOf(task.name, 'plain'), { adapter: [adapter], planFile: (f) => planFile(f, EVAL_SETS.filter((x) => x !== '--set')), warn: () => {} });
  return (await evaluateRun(target, { split: 'validation', backend: BACKEND })).metrics;
}

/** `peft merge` with these CLI-style arguments (--density, --rank, --exact), in process. */
async function merge(runs, m, head, out) {
  const extra = m.extra ?? [];
  const val = (k) => (extra.includes(k) ? extra[extra.indexOf(k) + 1] : undefined);
  return combineRun(runs, {
    method: m.method, weights: m.weights.split(',').map(Number), density: val('--density') === undefined ? undefined : Number(val('--density')),
    rank: val('--rank') === undefined ? undefined : Number(val('--rank')), exactScale: extra.includes('--exact'), head, seed: 0, out,
  });
}

/** `peft compress` with these CLI-style arguments, in process. */
function compress(input, args, out) {
  const val = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const method = val('--method');
  const scheme = method === 'quantize'
    ? { method, bits: Number(val('--bits')), granularity: val('--granularity', 'tensor') }
    : { method, density: Number(val('--density', '0.1')), alpha: Number(val('--alpha', '1')), scope: 'adapter' };
  const r = compressAdapter(input, out, scheme);
  return { bytes_before: r.bytesBefore, bytes_after: r.bytesAfter, ratio: r.bytesBefore / r.bytesAfter };
}

if (argv.includes('--render')) {
  const file = opt('--render');
  render(JSON.parse(readFileSync(file, 'utf8')));
  process.stderr.write(`redrew the tables of ${DOC} from ${file}\n`);
  process.exit(0);
}

const plain = TASKS.map((t) => train(t, 'plain'));
const ortho = TASKS.map((t) => train(t, 'orthogonal'));
const qatRun = train(TASKS[0], 'qat1');

// individual adapters on their own task, and the base with each task's head alone (weight 0)
for (const [i, t] of TASKS.entries()) {
  process.stderr.write(`individual ${t.name} ...\n`);
  results.individual[t.name] = await evaluate(t, join(plain[i], 'adapter'));
  results.orthogonal[`individual/${t.name}`] = await evaluate(t, join(ortho[i], 'adapter'));
  const headOnly = join(WORK, `base-${t.name}`);
  await merge([plain[i]], { method: 'linear', weights: '0' }, 1, headOnly);
  results.base[t.name] = await evaluate(t, headOnly);
}

async function mergeAll(runs, m, t, i, tag) {
  const out = join(WORK, `${tag}-${m.id}-${t.name}`);
  const r = await merge(runs, m, i + 1, out);
  return { metrics: await evaluate(t, out), rank: r.rank };
}

for (const m of MERGES) {
  results.merges[m.id] = { method: m.method, weights: m.weights, extra: m.extra ?? [], what: m.what, tasks: {} };
  for (const [i, t] of TASKS.entries()) {
    process.stderr.write(`merge ${m.id} → ${t.name} ...\n`);
    results.merges[m.id].tasks[t.name] = await mergeAll(plain, m, t, i, 'plain');
  }
  if (ORTHO_MERGES.includes(m.id)) {
    results.orthogonal[m.id] = { what: m.what, tasks: {} };
    for (const [i, t] of TASKS.entries()) {
      process.stderr.write(`orthogonal merge ${m.id} → ${t.name} ...\n`);
      results.orthogonal[m.id].tasks[t.name] = await mergeAll(ortho, m, t, i, 'ortho');
    }
  }
}

for (const [i, t] of TASKS.entries()) {
  results.compression[t.name] = {};
  for (const c of COMPRESSIONS) {
    process.stderr.write(`compress ${t.name} ${c.id} ...\n`);
    const out = join(WORK, `c-${t.name}-${c.id}`);
    const r = compress(plain[i], c.args, out);
    results.compression[t.name][c.id] = { what: c.what, ...r, metrics: await evaluate(t, out) };
  }
}
// the 1-bit quantisation-aware SST-2 adapter: as trained (latent weights fake-quantised) and packed
const qatPacked = join(WORK, 'qat1-packed');
const q = compress(qatRun, ['--method', 'quantize', '--bits', '1'], qatPacked);
results.compression.qat1 = { task: 'sst2', trained: await evaluate(TASKS[0], join(qatRun, 'adapter')), packed: { ...q, metrics: await evaluate(TASKS[0], qatPacked) } };

if (!SMOKE) mkdirSync('docs/data', { recursive: true });
writeFileSync(DATA, JSON.stringify(results, null, 2) + '\n');
render(results);
process.stderr.write(`wrote ${DATA} and the tables of ${DOC}\n`);

/** The tables, between `<!-- merging:NAME -->` and `<!-- /merging:NAME -->` in docs/merging.md. */
function render(res) {
  const f = (v) => (v === undefined || v === null ? '–' : v.toFixed(3));
  const primary = (metrics, t) => metrics?.[t.metric];
  const row = (label, get) => {
    const vals = TASKS.map((t) => primary(get(t), t));
    const avg = vals.reduce((a, b) => a + b, 0) / vals.length;
    return `| ${label} | ${vals.map(f).join(' | ')} | ${f(avg)} |`;
  };
  const head = `| | ${TASKS.map((t) => `${t.label} (${t.metric === 'mcc' ? 'MCC' : 'acc.'})`).join(' | ')} | average |\n| --- | ${TASKS.map(() => '---').join(' | ')} | --- |`;
  const merge = [head,
    row('base + the task\'s head (no update)', (t) => res.base[t.name]),
    row('individual adapters (each on its own task)', (t) => res.individual[t.name]),
    ...Object.entries(res.merges).map(([, m]) => row(m.what, (t) => m.tasks[t.name].metrics)),
  ].join('\n');
  const orth = [head,
    row('individual LoRA adapters', (t) => res.individual[t.name]),
    row('individual orthogonal adapters', (t) => res.orthogonal[`individual/${t.name}`]),
    ...ORTHO_MERGES.flatMap((id) => [
      row(`${res.merges[id].what} — LoRA`, (t) => res.merges[id].tasks[t.name].metrics),
      row(`${res.merges[id].what} — orthogonal`, (t) => res.orthogonal[id].tasks[t.name].metrics),
    ]),
  ].join('\n');
  const cHead = `| compression | bytes (SST-2 adapter) | ratio | ${TASKS.map((t) => t.label).join(' | ')} | average |\n| --- | --- | --- | ${TASKS.map(() => '---').join(' | ')} | --- |`;
  const sst = res.compression.sst2;
  const cRows = [
    `| none (float32) | ${sst[COMPRESSIONS[0].id].bytes_before} | 1× | ${TASKS.map((t) => f(primary(res.individual[t.name], t))).join(' | ')} | ${f(TASKS.reduce((a, t) => a + primary(res.individual[t.name], t), 0) / N)} |`,
    ...COMPRESSIONS.map((c) => {
      const vals = TASKS.map((t) => primary(res.compression[t.name][c.id].metrics, t));
      return `| ${c.what} | ${sst[c.id].bytes_after} | ${sst[c.id].ratio.toFixed(1)}× | ${vals.map(f).join(' | ')} | ${f(vals.reduce((a, b) => a + b, 0) / N)} |`;
    }),
  ];
  const qat = res.compression.qat1;
  const qatRows = `| SST-2, 1-bit quantisation-aware LoRA | accuracy |\n| --- | --- |\n| as trained (latent weights, fake-quantised) | ${f(qat.trained.accuracy)} |\n| packed 1-bit (${qat.packed.bytes_before} → ${qat.packed.bytes_after} bytes, ${qat.packed.ratio.toFixed(1)}×) | ${f(qat.packed.metrics.accuracy)} |\n| post-training 1-bit of the plain LoRA | ${f(sst.q1.metrics.accuracy)} |`;
  let doc = readFileSync(DOC, 'utf8');
  for (const [name, body] of [['merge', merge], ['orthogonal', orth], ['compression', [cHead, ...cRows].join('\n')], ['qat', qatRows]]) {
    const re = new RegExp(`(<!-- merging:${name} -->)[\\s\\S]*?(<!-- /merging:${name} -->)`);
    if (!re.test(doc)) throw new Error(`${DOC} has no <!-- merging:${name} --> … <!-- /merging:${name} --> markers`);
    doc = doc.replace(re, `$1\n${body}\n$2`);
  }
  writeFileSync(DOC, doc);
}
