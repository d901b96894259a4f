// Finding runs to report on: a run directory, a sweep directory (its trials, in sweep.json's
// order), or any folder holding those (runs/ itself); and reading each one's plan, summary,
// metrics log and parameter counts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PeftError } from '../../errors.js';
import type { Plan, TrialOverride } from '../../plan/index.js';
import { RunDir, RESOLVED_RECIPE, SUMMARY } from '../train/run-dir.js';
import type { RunSummary } from '../train/run.js';
import { SWEEP_FILE, readSweepFile, type SweepFile } from '../sweep/sweep-file.js';

export interface RunRecord {
  dir: string;
  /** Trial label in a sweep, else `<recipe name>/<run folder>`. */
  label: string;
  /** The sweep it belongs to (its directory), if any. */
  sweep: string | null;
  trialId: string | null;
  overrides: TrialOverride[];
  /** `trial` of a sweep, `evaluate` (reality check's evaluation run), or a lone `run`. */
  kind: 'trial' | 'evaluate' | 'run';
  plan: Plan;
  /** Null while the run has not finished. */
  summary: RunSummary | null;
  metrics: Record<string, unknown>[];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function readRun(dir: string, extra: Omit<RunRecord, 'dir' | 'plan' | 'summary' | 'metrics'>): RunRecord {
  const run = RunDir.open(dir);
  const summaryFile = join(dir, SUMMARY);
  const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary) : null;
  return { dir, plan: run.readPlan(), summary, metrics: run.readMetrics(), ...extra };
}

function sweepRuns(dir: string, sweep: SweepFile): RunRecord[] {
  const out: RunRecord[] = [];
  for (const t of sweep.trials) {
    const d = join(dir, t.id);
    if (existsSync(join(d, RESOLVED_RECIPE))) out.push(readRun(d, { label: t.label, sweep: dir, trialId: t.id, overrides: t.overrides, kind: 'trial' }));
  }
  const ev = sweep.evaluation;
  if (ev && existsSync(join(dir, ev.id, RESOLVED_RECIPE))) {
    out.push(readRun(join(dir, ev.id), { label: ev.label, sweep: dir, trialId: ev.id, overrides: ev.overrides, kind: 'evaluate' }));
  }
  return out;
}

/** Adds the runs under `dir`; whether it found a run or a sweep (a sweep may have no run yet). */
function scan(dir: string, depth: number, out: RunRecord[]): boolean {
  if (existsSync(join(dir, SWEEP_FILE))) {
    out.push(...sweepRuns(dir, readSweepFile(dir)));
    return true;
  }
  if (existsSync(join(dir, RESOLVED_RECIPE))) {
    const plan = RunDir.open(dir).readPlan();
    out.push(readRun(dir, { label: `${plan.name}/${basename(dir)}`, sweep: null, trialId: null, overrides: [], kind: 'run' }));
    return true;
  }
  if (depth === 0) return false;
  let found = false;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!name.startsWith('.') && isDir(p)) found = scan(p, depth - 1, out) || found;
  }
  return found;
}

/** Every run under the given directories (run, sweep, or folders of them, three levels deep). */
export function collectRuns(dirs: readonly string[]): RunRecord[] {
  const out: RunRecord[] = [];
  for (const d of dirs) {
    const abs = resolve(d);
    if (!isDir(abs)) throw new PeftError('FILE', 'not a directory', { where: d, hint: 'name run directories (runs/<name>/<stamp>) or sweep directories' });
    if (!scan(abs, 3, out)) {
      throw new PeftError('FILE', `no run or sweep directory in ${d}`, { where: d, hint: `a run directory holds ${RESOLVED_RECIPE}; a sweep directory holds ${SWEEP_FILE}` });
    }
  }
  return out;
}

/** The metrics of the adapter a run kept: its best evaluation when it evaluated during training, else its last. */
export function keptMetrics(r: RunRecord): Record<string, number> {
  const s = r.summary;
  if (!s) return {};
  const evals = r.metrics.filter((m) => m.type === 'eval');
  if (s.best) {
    const at = evals.filter((m) => m.step === s.best!.step && m.phase === undefined).pop();
    if (at) return numericFields(at);
  }
  return s.after ?? {};
}

const NOT_METRICS = new Set(['type', 'step', 'epoch', 'phase', 'examples', 'best']);

export function numericFields(rec: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec)) if (!NOT_METRICS.has(k) && typeof v === 'number') out[k] = v;
  return out;
}
