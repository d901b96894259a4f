// Measures the multi-task and continual-learning recipes and writes docs/continual.md's tables
// (from docs/data/continual.json, which keeps every run's numbers):
//  - multitask: configs/multitask/{lora,poly,mhr,mtlora}.yaml against single/<task>.yaml (one
//    adapter per task, the same data and steps);
//  - til: the GLUE task-incremental stream, configs/continual/glue-*.yaml;
//  - cil: the optdigits class-incremental stream with the protocol of "Hyperparameters in
//    Continual Learning: a Reality Check" (Mirzadeh et al.): each strategy's learning rate is
//    chosen on a *tuning stream* (another class order) and reported on the evaluation stream (the
//    recipe's order); every grid value is also run on the evaluation stream, so the table shows
//    what tuning on the evaluation stream itself would have claimed.
// `peft sweep` does not exist on this branch: the grid is this loop (one `peft train` per point,
// `--set optimizer.lr=… --set stream.split.order=…`, sequentially).
// Usage: npx tsx scripts/continual-table.ts [--only multitask,til,cil] [--render] [--fresh]
//   --render: only rebuild the tables from docs/data/continual.json; --fresh: rerun finished runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DATA = join(REPO, 'docs', 'data', 'continual.json');
const DOC = join(REPO, 'docs', 'continual.md');
const RUNS = join(REPO, 'runs', 'continual-table');

/** The tuning stream's class order: a fixed permutation of 0–9, other pairs than the evaluation stream's (0–1, 2–3, …). */
export const TUNE_ORDER = [7, 2, 9, 4, 0, 5, 3, 8, 1, 6];
const GRID: Record<string, number[]> = { full: [3e-4, 1e-3], pet: [2e-3, 1e-2] };
const CIL = ['seq-ft', 'seq-lora', 'er', 'lae', 'conpet', 'mos'];
const TIL = ['seq-ft', 'seq-lora', 'lae', 'conpet', 'mos'];
const MULTI = ['lora', 'poly', 'mhr', 'mtlora'];
const TASKS = ['sst2', 'rte', 'mrpc', 'cola'];

type Json = Record<string, any>;
interface Store { machine: Json; runs: Record<string, Json> }

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]!.split(',') : ['multitask', 'til', 'cil'];
const store: Store = existsSync(DATA) ? JSON.parse(readFileSync(DATA, 'utf8')) : { machine: {}, runs: {} };

function save(): void {
  mkdirSync(join(REPO, 'docs', 'data'), { recursive: true });
  writeFileSync(DATA, JSON.stringify(store, null, 1) + '\n');
}

/** One `peft train` (its summary), or the stored one when this key ran before. */
function train(key: string, recipe: string, sets: string[] = []): Json {
  if (store.runs[key] && !args.includes('--fresh')) return store.runs[key]!;
  if (args.includes('--render')) return {};
  console.error(`[continual-table] ${key}: peft train ${recipe} ${sets.map((s) => `--set ${s}`).join(' ')}`);
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'peft.js'), 'train', join(REPO, recipe), ...sets.flatMap((s) => ['--set', s]),
    '--output', join(RUNS, key.split('/')[0]!), '--json', '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  if (r.status !== 0) {
    // keep going: the other runs still measure; a rerun retries this one
    console.error(`[continual-table] ${key}: peft train exited ${r.status}`);
    return { failed: r.status };
  }
  const s = JSON.parse(r.stdout) as Json;
  const keep: Json = {
    recipe, sets, run_dir: s.run_dir.replace(REPO + '/', ''), backend: s.backend, trainable_params: s.trainable_params,
    steps: s.steps, wall_time_s: s.wall_time_s, after: s.after, tasks: s.tasks, stream: s.stream,
  };
  store.runs[key] = keep;
  store.machine = { cpus: cpus().length, cpu: cpus()[0]?.model, note: 'measured on a shared 2-core machine while other jobs ran: wall times are noisy, compare them within a table only' };
  save();
  return keep;
}

const lrOf = (method: string) => (method === 'seq-ft' ? GRID.full! : GRID.pet!);

if (!args.includes('--render')) {
  if (only.includes('multitask')) {
    for (const t of TASKS) train(`multitask/single-${t}`, `configs/multitask/single/${t}.yaml`);
    for (const m of MULTI) train(`multitask/${m}`, `configs/multitask/${m}.yaml`);
  }
  if (only.includes('til')) for (const m of TIL) train(`til/${m}`, `configs/continual/glue-${m}.yaml`);
  if (only.includes('cil')) {
    for (const m of CIL) {
      for (const lr of lrOf(m)) {
        train(`cil-tune/${m}/${lr}`, `configs/continual/optdigits-${m}.yaml`, [`optimizer.lr=${lr}`, `stream.split.order=[${TUNE_ORDER.join(',')}]`, `name=optdigits-${m}-tune`]);
        train(`cil/${m}/${lr}`, `configs/continual/optdigits-${m}.yaml`, [`optimizer.lr=${lr}`]);
      }
    }
  }
}

// ---- tables
const pct = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? (100 * v).toFixed(1) : '–');
const num = (v: unknown, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const secs = (v: unknown) => (typeof v === 'number' ? `${Math.round(v)} s` : '–');
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const head = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];
const score = (t: string, m: Json | undefined) => (t === 'cola' ? m?.mcc : m?.accuracy);

function multitaskTable(): string[] {
  const singles = TASKS.map((t) => store.runs[`multitask/single-${t}`]);
  const lines = head(['method', 'SST-2 acc', 'RTE acc', 'MRPC acc / F1', 'CoLA MCC', 'mean', 'trainable params', 'steps', 'wall']);
  if (singles.every(Boolean)) {
    const m = (t: string) => singles[TASKS.indexOf(t)]!.after;
    const mean = TASKS.reduce((a, t) => a + score(t, m(t)), 0) / TASKS.length;
    lines.push(row(['one LoRA per task (4 runs)', pct(m('sst2').accuracy), pct(m('rte').accuracy), `${pct(m('mrpc').accuracy)} / ${pct(m('mrpc').f1)}`, num(m('cola').mcc),
      pct(mean), singles.reduce((a, s) => a + s!.trainable_params, 0).toLocaleString('en-US'), String(singles.reduce((a, s) => a + s!.steps, 0)), secs(singles.reduce((a, s) => a + s!.wall_time_s, 0))]));
  }
  const names: Record<string, string> = { lora: 'one shared LoRA (r 8)', poly: 'Poly (4 skills, r 2)', mhr: 'MHR (4 skills of r 2, 4 blocks)', mtlora: 'MTLoRA (shared r 8, task r 4)' };
  for (const k of MULTI) {
    const r = store.runs[`multitask/${k}`];
    if (!r) continue;
    const t = r.tasks;
    lines.push(row([names[k]!, pct(t.sst2?.accuracy), pct(t.rte?.accuracy), `${pct(t.mrpc?.accuracy)} / ${pct(t.mrpc?.f1)}`, num(t.cola?.mcc),
      pct(r.after?.task_mean), r.trainable_params.toLocaleString('en-US'), String(r.steps), secs(r.wall_time_s)]));
  }
  return lines;
}

function streamRow(label: string, r: Json, extra: string[] = []): string {
  const s = r.stream;
  const last = s.matrix[s.matrix.length - 1] as (number | null)[];
  return row([label, ...last.map(pct), pct(s.average_accuracy), pct(s.forgetting), pct(s.backward_transfer), ...extra, secs(r.wall_time_s)]);
}

const LABELS: Record<string, string> = {
  'seq-ft': 'sequential fine-tuning', 'seq-lora': 'sequential LoRA', er: 'sequential LoRA + replay 40', lae: 'LAE (LoRA)', conpet: 'ConPET (LoRA)', mos: 'MOS (LoRA)',
};

function tilTable(): string[] {
  const lines = head(['strategy', 'SST-2', 'CoLA', 'MRPC', 'RTE', 'average accuracy', 'forgetting', 'BWT', 'wall']);
  for (const m of TIL) if (store.runs[`til/${m}`]) lines.push(streamRow(LABELS[m]!, store.runs[`til/${m}`]!));
  return lines;
}

function cilTable(): string[] {
  const lines = head(['strategy', 'lr (tuned on the tuning stream)', '0–1', '2–3', '4–5', '6–7', '8–9', 'average accuracy', 'forgetting', 'BWT',
    'avg. acc. if tuned on this stream (lr)', 'tuning-stream avg. acc.', 'wall']);
  for (const m of CIL) {
    const grid = lrOf(m);
    const tuned = grid.map((lr) => ({ lr, r: store.runs[`cil-tune/${m}/${lr}`] })).filter((x) => x.r);
    const evals = grid.map((lr) => ({ lr, r: store.runs[`cil/${m}/${lr}`] })).filter((x) => x.r);
    if (tuned.length < grid.length || evals.length < grid.length) continue;
    const best = (xs: typeof tuned) => xs.reduce((a, b) => (b.r!.stream.average_accuracy > a.r!.stream.average_accuracy ? b : a));
    const chosen = best(tuned);
    const honest = evals.find((x) => x.lr === chosen.lr)!;
    const oracle = best(evals);
    lines.push(streamRow(LABELS[m]!, honest.r!, [
      `${pct(oracle.r!.stream.average_accuracy)} (${oracle.lr})`, pct(chosen.r!.stream.average_accuracy),
    ]).replace(`| ${LABELS[m]} |`, `| ${LABELS[m]} | ${chosen.lr} |`));
  }
  return lines;
}

function replaceTable(doc: string, name: string, lines: string[]): string {
  const open = `<!-- table:${name} -->`;
  const close = `<!-- /table:${name} -->`;
  const a = doc.indexOf(open);
  const b = doc.indexOf(close);
  if (a < 0 || b < a) throw new Error(`docs/continual.md has no ${open} … ${close} section`);
  return `${doc.slice(0, a + open.length)}\n${lines.join('\n')}\n${doc.slice(b)}`;
}

let doc = readFileSync(DOC, 'utf8');
doc = replaceTable(doc, 'multitask', multitaskTable());
doc = replaceTable(doc, 'til', tilTable());
doc = replaceTable(doc, 'cil', cilTable());
writeFileSync(DOC, doc);
console.error('[continual-table] wrote docs/continual.md and docs/data/continual.json');
