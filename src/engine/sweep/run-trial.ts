// Runs one trial in a child process (trial-child.ts): a crash, a leak or a backend's global state
// stays inside it, and several run side by side. The outcome comes back over IPC; a child that
// dies without one is a failed trial whose run directory still resumes from its checkpoint.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Plan } from '../../plan/index.js';
import type { RunSummary } from '../train/run.js';
import type { StepLawResult } from '../train/step-law.js';
import { clearTrialError, writeTrialError, type TrialError } from './trial-state.js';

export interface TrialJob {
  id: string;
  label: string;
  plan: Plan;
  /** The trial's run directory. */
  dir: string;
  backend?: string;
  /** BLAS/OpenMP threads of the trial's process (when several share the machine's cores). */
  threads?: number;
}

export type ChildMessage =
  | { type: 'start'; totalSteps: number; startStep: number; resumedFrom: string | null }
  | { type: 'step_law'; law: Omit<StepLawResult, 'plan'> }
  | { type: 'step'; step: number; totalSteps: number; loss: number; etaSec: number }
  | { type: 'eval'; step: number; metrics: Record<string, number> }
  | { type: 'warning'; message: string }
  | { type: 'done'; summary: RunSummary; skipped: boolean }
  | { type: 'error'; error: TrialError };

export type TrialOutcome =
  | { ok: true; summary: RunSummary; skipped: boolean; resumedFrom: string | null }
  | { ok: false; error: TrialError };

export interface RunningTrial {
  outcome: Promise<TrialOutcome>;
  /** Stops the child (SIGTERM: it checkpoints at its next step, as on a lost parent). */
  kill(signal?: NodeJS.Signals): void;
  readonly pid: number | undefined;
}

/**
 * Processes sharing the cores get a share of them each: OpenMP thread pools larger than the cores
 * they get spin against each other (orders of magnitude slower). The user's own setting wins.
 */
function threadEnv(threads: number | undefined): Record<string, string> {
  if (threads === undefined) return {};
  const n = String(Math.max(1, threads));
  return { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n };
}

/** Threads for each of `parallel` processes on this machine. */
export function threadsPerTrial(parallel: number): number | undefined {
  return parallel > 1 ? Math.max(1, Math.floor(availableParallelism() / parallel)) : undefined;
}

function childModule(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/run-trial\.(ts|js)$/, (_m, ext: string) => `trial-child.${ext}`);
}

/** Forks the trial's process; `onMessage` sees its progress. */
export function startTrial(job: TrialJob, onMessage: (m: ChildMessage) => void = () => {}): RunningTrial {
  clearTrialError(job.dir);
  const child: ChildProcess = fork(childModule(), [], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...threadEnv(job.threads), ...process.env, FORCE_COLOR: '0' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const outcome = new Promise<TrialOutcome>((resolve) => {
    let result: TrialOutcome | null = null;
    let resumedFrom: string | null = null;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'start') resumedFrom = m.resumedFrom;
      if (m.type === 'done') result = { ok: true, summary: m.summary, skipped: m.skipped, resumedFrom: m.skipped ? null : resumedFrom };
      if (m.type === 'error') result = { ok: false, error: m.error };
      onMessage(m);
    });
    child.on('exit', (code, signal) => {
      if (!result) {
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const tail = stderr.trim().split('\n').pop() ?? '';
        result = { ok: false, error: { code: 'RUN', message: `the trial's process ${why}${tail ? `: ${tail}` : ''}`, hint: 'run the sweep again: the trial resumes from its last checkpoint', exitCode: 1 } };
      }
      if (!result.ok) writeTrialError(job.dir, result.error);
      resolve(result);
    });
    child.send(job);
  });
  return { outcome, kill: (signal = 'SIGTERM') => child.kill(signal), pid: child.pid };
}
