// `peft worker`: takes trials off a BullMQ queue, each in its own process (run-trial.ts), and
// returns their summaries. A worker killed mid-trial loses nothing: its job's lock lapses, another
// worker (or this one restarted) takes the job again — BullMQ's stalled-job check — and the trial
// resumes from its last checkpoint when the output directory is shared. The trial's process
// checkpoints and stops when it loses its worker, so two processes never train one trial.
import { hostname } from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import { PeftError } from '../../errors.js';
import { RunDir } from '../train/run-dir.js';
import type { TrialJobData, TrialJobResult } from './queue.js';
import { connect, pingQueue, versionKey } from './redis.js';
import { startTrial, threadsPerTrial, type ChildMessage, type RunningTrial } from './run-trial.js';
import { peftVersion } from './sweep-file.js';

export interface WorkerOptions {
  url: string;
  name: string;
  concurrency: number;
  backend?: string;
  /** A job's lock lapses this long after its worker stops renewing it (default 20 s). */
  lockMs?: number;
}

export interface WorkerEvents {
  onReady?(info: { name: string; concurrency: number; version: string }): void;
  onTrialStart?(job: TrialJobData, attempt: number): void;
  onTrialMessage?(job: TrialJobData, m: ChildMessage): void;
  onTrialEnd?(job: TrialJobData, ok: boolean, message: string): void;
}

export interface RunningWorker {
  /** Resolves when the worker has closed; rejects with the error that stopped it (VERSION). */
  closed: Promise<void>;
  /** Stops taking trials; the running ones checkpoint and stop (their jobs are retried). */
  close(): Promise<void>;
}

function versionError(theirs: string): PeftError {
  return new PeftError('VERSION', `this worker runs peft ${peftVersion()}, the queue's sweep was planned by peft ${theirs}`, {
    hint: 'install the same peft version on every machine (npm ci at the same commit), then start the worker again',
  });
}

export async function startWorker(o: WorkerOptions, ev: WorkerEvents = {}): Promise<RunningWorker> {
  await pingQueue(o.url);
  const meta = connect(o.url);
  const theirs = await meta.get(versionKey(o.name));
  meta.disconnect();
  if (theirs && theirs !== peftVersion()) throw versionError(theirs);

  const running = new Set<RunningTrial>();
  let fatal: PeftError | null = null;
  let worker: Worker<TrialJobData, TrialJobResult>;
  const processor = async (job: Job<TrialJobData, TrialJobResult>, token?: string): Promise<TrialJobResult> => {
    const d = job.data;
    if (d.version !== peftVersion()) {
      fatal = versionError(d.version);
      await job.moveToDelayed(Date.now() + 1000, token); // back on the queue for a worker of its version
      void worker.close();
      throw new DelayedError();
    }
    ev.onTrialStart?.(d, job.attemptsMade + 1);
    const trial = startTrial({ id: d.trialId, label: d.label, plan: d.plan, dir: d.dir, backend: d.backend ?? o.backend, threads: threadsPerTrial(o.concurrency) }, (m) => {
      if (m.type === 'step') void job.updateProgress({ step: m.step, totalSteps: m.totalSteps, loss: m.loss }).catch(() => {});
      ev.onTrialMessage?.(d, m);
    });
    running.add(trial);
    const outcome = await trial.outcome.finally(() => running.delete(trial));
    if (!outcome.ok) {
      ev.onTrialEnd?.(d, false, outcome.error.message);
      throw new Error(outcome.error.message);
    }
    ev.onTrialEnd?.(d, true, outcome.skipped ? 'already finished' : 'finished');
    const run = RunDir.open(d.dir);
    return { summary: outcome.summary, plan: run.readPlan(), metrics: run.readMetrics(), worker: `${hostname()}:${process.pid}` };
  };
  const lockDuration = o.lockMs ?? 20_000;
  const conn = connect(o.url);
  worker = new Worker<TrialJobData, TrialJobResult>(o.name, processor, {
    connection: conn,
    concurrency: o.concurrency,
    lockDuration,
    stalledInterval: Math.max(1000, Math.round(lockDuration / 2)),
    maxStalledCount: 5,
  });
  worker.on('error', () => {}); // connection hiccups: ioredis reconnects
  await worker.waitUntilReady();
  ev.onReady?.({ name: o.name, concurrency: o.concurrency, version: peftVersion() });
  const closed = new Promise<void>((resolve, reject) => {
    worker.on('closed', () => {
      conn.disconnect();
      if (fatal) reject(fatal);
      else resolve();
    });
  });
  return {
    closed,
    close: async () => {
      for (const t of running) t.kill('SIGTERM');
      await worker.close();
    },
  };
}
