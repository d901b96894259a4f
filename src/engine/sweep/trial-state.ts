// Where a trial stands, from its run directory alone: not started, started (resumable from its
// last checkpoint), done (summary.json written), or failed (error.json, retried on the next run).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../../plan/index.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { RESOLVED_RECIPE, RunDir, SUMMARY } from '../train/run-dir.js';
import type { RunSummary } from '../train/run.js';

export const TRIAL_ERROR = 'error.json';

export interface TrialError {
  code: string;
  message: string;
  where?: string;
  hint?: string;
  exitCode: number;
}

export type TrialState =
  | { kind: 'pending' }
  | { kind: 'started'; plan: Plan }
  | { kind: 'done'; summary: RunSummary }
  | { kind: 'failed'; error: TrialError; plan: Plan | null };

export function trialState(dir: string): TrialState {
  if (existsSync(join(dir, SUMMARY))) return { kind: 'done', summary: JSON.parse(readFileSync(join(dir, SUMMARY), 'utf8')) as RunSummary };
  const plan = existsSync(join(dir, RESOLVED_RECIPE)) ? RunDir.open(dir).readPlan() : null;
  if (existsSync(join(dir, TRIAL_ERROR))) return { kind: 'failed', error: JSON.parse(readFileSync(join(dir, TRIAL_ERROR), 'utf8')) as TrialError, plan };
  return plan ? { kind: 'started', plan } : { kind: 'pending' };
}

export function writeTrialError(dir: string, error: TrialError): void {
  writeJsonAtomic(join(dir, TRIAL_ERROR), error);
}

/** A failed trial is tried again: its error note goes, its run directory (and checkpoints) stay. */
export function clearTrialError(dir: string): void {
  rmSync(join(dir, TRIAL_ERROR), { force: true });
}
