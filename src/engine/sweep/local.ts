// A sweep on this machine: its trials in up to N child processes at once, finished trials
// skipped, started ones resumed from their checkpoints, the table rewritten as each one ends;
// then, under the reality-check protocol, the selected trial trained again on the evaluation
// split; then the report (table and figures) in <sweep>/report/.
import { join } from 'node:path';
import type { SweepPlan, TrialPlan } from '../../plan/index.js';
import { writeReportFor, type ReportResult } from '../report/index.js';
import { lockSweep, prepareSweepDir } from './prepare.js';
import { writeResults, type SweepRow } from './results.js';
import { startTrial, threadsPerTrial, type ChildMessage, type RunningTrial, type TrialOutcome } from './run-trial.js';
import { readSweepFile, writeSweepFile } from './sweep-file.js';
import { trialState } from './trial-state.js';

export interface SweepEvents {
  onPrepared?(info: { dir: string; created: boolean; total: number; finished: number; toRun: number }): void;
  onTrialStart?(t: TrialPlan): void;
  onTrialMessage?(t: TrialPlan, m: ChildMessage): void;
  onTrialEnd?(t: TrialPlan, outcome: TrialOutcome, progress: { finished: number; failed: number; total: number }): void;
  onEvaluation?(selected: SweepRow, evaluation: TrialPlan): void;
}

export interface SweepOptions {
  /** Trials at once (child processes). */
  parallel?: number;
  backend?: string;
  /** Polled between trials: true starts no new one (the running ones checkpoint and stop). */
  shouldStop?(): boolean;
}

export interface SweepResult {
  dir: string;
  rows: SweepRow[];
  best: SweepRow | null;
  failed: { id: string; label: string; message: string }[];
  evaluation: SweepRow | null;
  report: ReportResult | null;
}

/** The reality check's evaluation trial for the selected one. */
export function evaluationTrial(s: SweepPlan, selectedId: string): TrialPlan | null {
  const t = s.trials.find((x) => x.id === selectedId);
  if (!t?.evaluate) return null;
  return { ...t, id: `evaluate-${t.id}`, label: `${t.label} (evaluation)`, plan: t.evaluate, evaluate: undefined };
}

/** Runs `trials` with at most `parallel` at once. */
async function pool(s: SweepPlan, trials: TrialPlan[], opts: SweepOptions, ev: SweepEvents, failed: SweepResult['failed'], total: number, finishedBefore: number): Promise<void> {
  let next = 0;
  let finished = finishedBefore;
  const running = new Set<RunningTrial>();
  const worker = async (): Promise<void> => {
    while (next < trials.length && !opts.shouldStop?.()) {
      const t = trials[next++]!;
      ev.onTrialStart?.(t);
      const r = startTrial({ id: t.id, label: t.label, plan: t.plan, dir: join(s.dir, t.id), backend: opts.backend, threads: threadsPerTrial(Math.min(opts.parallel ?? 1, trials.length)) }, (m) => ev.onTrialMessage?.(t, m));
      running.add(r);
      const outcome = await r.outcome;
      running.delete(r);
      if (outcome.ok) finished++;
      else failed.push({ id: t.id, label: t.label, message: outcome.error.message });
      writeResults(s.dir);
      ev.onTrialEnd?.(t, outcome, { finished, failed: failed.length, total });
    }
  };
  const n = Math.max(1, Math.min(opts.parallel ?? 1, trials.length));
  await Promise.all(Array.from({ length: n }, worker));
}

export async function runSweep(s: SweepPlan, opts: SweepOptions = {}, ev: SweepEvents = {}): Promise<SweepResult> {
  const { created } = prepareSweepDir(s);
  const unlock = lockSweep(s.dir);
  try {
    return await runLocked(s, created, opts, ev);
  } finally {
    unlock();
  }
}

async function runLocked(s: SweepPlan, created: boolean, opts: SweepOptions, ev: SweepEvents): Promise<SweepResult> {
  const todo = s.trials.filter((t) => trialState(join(s.dir, t.id)).kind !== 'done');
  ev.onPrepared?.({ dir: s.dir, created, total: s.trials.length, finished: s.trials.length - todo.length, toRun: todo.length });
  const failed: SweepResult['failed'] = [];
  await pool(s, todo, opts, ev, failed, s.trials.length, s.trials.length - todo.length);
  let table = writeResults(s.dir);
  let evaluation: SweepRow | null = null;
  if (s.realityCheck && table.best && failed.length === 0 && !opts.shouldStop?.()) {
    const t = evaluationTrial(s, table.best.trial);
    if (t) {
      const file = readSweepFile(s.dir);
      if (file.evaluation?.selected !== table.best.trial) {
        writeSweepFile(s.dir, { ...file, evaluation: { id: t.id, label: t.label, overrides: t.overrides, selected: table.best.trial, tune_value: table.best.metrics[s.select.metric]! } });
      }
      ev.onEvaluation?.(table.best, t);
      if (trialState(join(s.dir, t.id)).kind !== 'done') await pool(s, [t], opts, ev, failed, 1, 0);
      table = writeResults(s.dir);
      evaluation = table.rows.find((r) => r.kind === 'evaluate') ?? null;
    }
  }
  const done = table.runs.filter((r) => r.summary);
  const report = done.length ? await writeReportFor(table.runs, join(s.dir, 'report'), { metric: s.select.metric, title: `sweep ${s.name}` }) : null;
  return { dir: s.dir, rows: table.rows, best: table.best, failed, evaluation, report };
}
