// Measures the low-rank family on SST-2 with stories260K (docs/methods.md, section `lowrank`): each
// shipped recipe configs/glue/sst2-<preset>.yaml is trained once (125 steps of 32), beside LoRA and
// rank-1 LoRA on the same budget (sst2-lora.yaml shortened by --set) and the head-only baseline.
// For each it records the dev accuracy of the adapter kept, the trainable and stored parameters
// (`peft inspect`), the adapter file's bytes as written, and seconds per training step; rows go to
// docs/data/methods-lowrank.json (merged by method, so `--only a,b` re-measures some), then
//   npx tsx scripts/methods-table.ts lowrank --columns …
// renders the table. Usage: npm run build && npx tsx scripts/methods-lowrank.ts [--only vera,nola]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'docs', 'data', 'methods-lowrank.json');
const SHORT = ['--set', 'data.train.limit=4000', '--set', 'training.epochs=1'];

interface Run { method: string; recipe: string; sets: string[] }

const FAMILY = ['vera', 'nola', 'vblora', 'mos', 'loldu', 'flora', 'hydra', 'mola', 'increlora', 'triadaptlora', 'corda', 'intrinsic-dim'];
const RUNS: Run[] = [
  { method: 'head-only', recipe: 'configs/glue/sst2-head-only.yaml', sets: [] },
  { method: 'lora', recipe: 'configs/glue/sst2-lora.yaml', sets: SHORT },
  { method: 'lora r=1', recipe: 'configs/glue/sst2-lora.yaml', sets: [...SHORT, '--set', 'method.rank=1', '--set', 'method.alpha=2'] },
  ...FAMILY.map((m) => ({ method: m, recipe: `configs/glue/sst2-${m}.yaml`, sets: [] })),
];

function peft(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'peft.js'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function measure(run: Run): Record<string, unknown> {
  const out = mkdtempSync(join(tmpdir(), 'peft-lowrank-table-'));
  const inspect = peft(['inspect', run.recipe, ...run.sets, '--json']);
  if (inspect.code !== 0) throw new Error(`${run.method}: inspect failed: ${inspect.stderr}`);
  const rep = JSON.parse(inspect.stdout);
  const t = peft(['train', run.recipe, ...run.sets, '--output', out, '--json']);
  if (t.code !== 0) throw new Error(`${run.method}: training failed: ${t.stderr.slice(-2000)}`);
  const s = JSON.parse(t.stdout);
  const train = readFileSync(join(s.run_dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'train');
  const last = train[train.length - 1];
  const weights = join(s.adapter_dir, 'adapter_model.safetensors');
  return {
    method: run.method,
    recipe: run.recipe.replace('configs/glue/', '') + (run.sets.length ? ' (+ --set)' : ''),
    dev_accuracy: s.best?.metric === 'accuracy' ? s.best.value : s.after?.accuracy ?? null,
    before_accuracy: s.before?.accuracy ?? null,
    trainable: rep.trainable_params,
    adapter_trainable: rep.modules.reduce((n: number, m: { trainable_params: number }) => n + m.trainable_params, 0) + rep.unfrozen_params,
    stored: rep.stored_params,
    adapter_stored: rep.modules.reduce((n: number, m: { stored_params: number }) => n + m.stored_params, 0) + rep.unfrozen_params,
    adapter_bytes: existsSync(weights) ? statSync(weights).size : null,
    adapter_type: rep.adapter_type,
    steps: s.steps,
    sec_per_step: last ? last.elapsed_s / last.step : null,
    wall_s: s.wall_time_s,
    backend: s.backend,
  };
}

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : null;
const rows: Record<string, unknown>[] = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : [];
for (const run of RUNS) {
  if (only && !only.includes(run.method)) continue;
  const started = Date.now();
  let row: Record<string, unknown>;
  try {
    row = measure(run);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
    continue;
  }
  const i = rows.findIndex((r) => r.method === run.method);
  if (i >= 0) rows[i] = row;
  else rows.push(row);
  rows.sort((a, b) => RUNS.findIndex((r) => r.method === a.method) - RUNS.findIndex((r) => r.method === b.method));
  writeFileSync(OUT, JSON.stringify(rows, null, 2) + '\n');
  console.log(`${run.method}: dev accuracy ${row.dev_accuracy}, ${row.adapter_trainable} trainable, ${row.adapter_bytes} bytes, ${Number(row.sec_per_step).toFixed(3)} s/step (${Math.round((Date.now() - started) / 1000)} s)`);
}
