// A sweep on a BullMQ queue: its trials enqueued as jobs (job id = sweep id + trial id, so the
// same command enqueues nothing twice), their progress read back (--status), and their results
// gathered as they complete (--wait): a finished trial's summary and metrics come back with the
// job, so the table is the same whether or not the workers share the output directory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { PeftError } from '../../errors.js';
import type { Plan, SweepPlan, TrialPlan } from '../../plan/index.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { METRICS, RunDir, SUMMARY } from '../train/run-dir.js';
import type { RunSummary } from '../train/run.js';
import { writeFileAtomic } from '../io/atomic.js';
import { evaluationTrial } from './local.js';
import { prepareSweepDir } from './prepare.js';
import { connect, pingQueue, versionKey } from './redis.js';
import { bestRow, writeResults, type SweepTable } from './results.js';
import { peftVersion, readSweepFile, writeSweepFile } from './sweep-file.js';
import { trialState } from './trial-state.js';

/** What a job carries: everything a worker needs, nothing it must read from the sweep's machine. */
export interface TrialJobData {
  version: string;
  sweepId: string;
  sweepDir: string;
  trialId: string;
  label: string;
  plan: Plan;
  dir: string;
  backend?: string;
}

/** What a worker returns for a finished trial. */
export interface TrialJobResult {
  summary: RunSummary;
  plan: Plan;
  metrics: Record<string, unknown>[];
  worker: string;
}

export interface QueueOptions {
  url: string;
  name: string;
  backend?: string;
}

export type TrialQueueState = 'completed' | 'failed' | 'active' | 'waiting' | 'delayed' | 'prioritized' | 'waiting-children' | 'unknown' | 'done-locally';

export interface TrialStatus {
  id: string;
  label: string;
  state: TrialQueueState;
  attempts: number;
  progress: { step: number; totalSteps: number; loss?: number } | null;
  error: string | null;
  result: TrialJobResult | null;
}

export function jobId(sweepId: string, trialId: string): string {
  return `${sweepId}.${trialId}`.replace(/:/g, '_');
}

export const JOB_ATTEMPTS = 3;

/** The queue, on a connection of its own that closing it also closes. */
async function openQueue(o: QueueOptions): Promise<{ q: Queue; close(): Promise<void> }> {
  await pingQueue(o.url);
  const conn = connect(o.url);
  const q = new Queue(o.name, { connection: conn });
  return { q, close: async () => { await q.close(); conn.disconnect(); } };
}

/** Records our version on the queue, refusing when a busy queue holds another version's sweeps. */
async function claimVersion(q: Queue, name: string, url: string): Promise<void> {
  const client = connect(url);
  try {
    await claimWith(client, q, name);
  } finally {
    client.disconnect();
  }
}

async function claimWith(client: Redis, q: Queue, name: string): Promise<void> {
  const theirs = await client.get(versionKey(name));
  const ours = peftVersion();
  if (theirs && theirs !== ours) {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(c).some((n) => n > 0)) {
      throw new PeftError('VERSION', `queue ${name} holds trials of peft ${theirs}; this is peft ${ours}`, {
        hint: 'let them finish, use another --queue-name, or run the same peft version everywhere',
      });
    }
  }
  await client.set(versionKey(name), ours);
}

function jobData(s: SweepPlan, t: TrialPlan, o: QueueOptions): TrialJobData {
  return { version: peftVersion(), sweepId: s.id, sweepDir: s.dir, trialId: t.id, label: t.label, plan: t.plan, dir: join(s.dir, t.id), ...(o.backend ? { backend: o.backend } : {}) };
}

async function addTrial(q: Queue, s: SweepPlan, t: TrialPlan, o: QueueOptions): Promise<'added' | 'present' | 'retried'> {
  const id = jobId(s.id, t.id);
  const job = await q.getJob(id);
  if (job) {
    if ((await job.getState()) === 'failed') {
      await job.retry('failed');
      return 'retried';
    }
    return 'present';
  }
  await q.add('trial', jobData(s, t, o), { jobId: id, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: false, removeOnFail: false });
  return 'added';
}

/** A completed trial's files in its run directory on this machine, unless the workers wrote them here. */
function materialize(dir: string, r: TrialJobResult): void {
  if (existsSync(join(dir, SUMMARY))) return;
  const run = RunDir.at(dir);
  run.writePlan(r.plan);
  writeFileAtomic(join(dir, METRICS), r.metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  writeJsonAtomic(join(dir, SUMMARY), r.summary);
}

export interface QueueSweep {
  statuses: TrialStatus[];
  table: SweepTable;
  enqueued: { added: number; present: number; retried: number };
  /** The reality check's evaluation trial, once the tuning trials are all done. */
  evaluation: TrialStatus | null;
}

async function statusOf(q: Queue, s: SweepPlan, t: TrialPlan): Promise<TrialStatus> {
  const base = { id: t.id, label: t.label };
  const job: Job<TrialJobData, TrialJobResult> | undefined = await q.getJob(jobId(s.id, t.id));
  if (!job) {
    const local = trialState(join(s.dir, t.id));
    return { ...base, state: local.kind === 'done' ? 'done-locally' : 'unknown', attempts: 0, progress: null, error: null, result: null };
  }
  const state = (await job.getState()) as TrialQueueState;
  const progress = job.progress && typeof job.progress === 'object' ? (job.progress as TrialStatus['progress']) : null;
  const result = state === 'completed' ? (job.returnvalue ?? null) : null;
  if (result) materialize(join(s.dir, t.id), result);
  return { ...base, state, attempts: job.attemptsMade, progress, error: job.failedReason || null, result };
}

const finished = (st: TrialStatus) => st.state === 'completed' || st.state === 'done-locally';
const terminal = (st: TrialStatus) => finished(st) || st.state === 'failed';

/**
 * One pass over the sweep: prepare its directory, enqueue what is not done or queued (the
 * reality check's evaluation trial once every tuning trial is done), read every trial's state,
 * gather finished results and rewrite the table. `enqueue: false` only reads (--status).
 */
export async function syncQueueSweep(s: SweepPlan, o: QueueOptions, opts: { enqueue: boolean }): Promise<QueueSweep> {
  const { q, close } = await openQueue(o);
  try {
    const enqueued = { added: 0, present: 0, retried: 0 };
    if (opts.enqueue) await claimVersion(q, o.name, o.url);
    prepareSweepDir(s);
    for (const t of s.trials) {
      if (!opts.enqueue || trialState(join(s.dir, t.id)).kind === 'done') continue;
      enqueued[await addTrial(q, s, t, o)]++;
    }
    const statuses = await Promise.all(s.trials.map((t) => statusOf(q, s, t)));
    let table = writeResults(s.dir);
    let evaluation: TrialStatus | null = null;
    if (s.realityCheck && statuses.every(finished)) {
      const best = bestRow(table.rows, s.select);
      const t = best && evaluationTrial(s, best.trial);
      if (best && t) {
        const file = readSweepFile(s.dir);
        if (file.evaluation?.selected !== best.trial) {
          writeSweepFile(s.dir, { ...file, evaluation: { id: t.id, label: t.label, overrides: t.overrides, selected: best.trial, tune_value: best.metrics[s.select.metric]! } });
        }
        if (opts.enqueue && trialState(join(s.dir, t.id)).kind !== 'done') enqueued[await addTrial(q, s, t, o)]++;
        evaluation = await statusOf(q, s, t);
        table = writeResults(s.dir);
      }
    }
    return { statuses, table, enqueued, evaluation };
  } finally {
    await close();
  }
}

/** Whether every trial (and the evaluation trial, under the reality check) has ended. */
export function sweepEnded(s: SweepPlan, r: QueueSweep): boolean {
  if (!r.statuses.every(terminal)) return false;
  if (!s.realityCheck || r.statuses.some((st) => st.state === 'failed')) return true;
  return r.evaluation !== null && terminal(r.evaluation);
}

export function sweepFailed(r: QueueSweep): TrialStatus[] {
  return [...r.statuses, ...(r.evaluation ? [r.evaluation] : [])].filter((st) => st.state === 'failed');
}
