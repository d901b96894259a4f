// A multi-task run: every task's data checked and read, one session with the shared head, the
// tasks' batches mixed by the sampling rule, each task evaluated on its own data before and after
// (and during, by eval_every) with the mean over tasks, and the run directory as for one task —
// its summary adding each task's metrics.
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../../plan/index.js';
import { openSession } from '../session.js';
import { trainLoop } from '../train/loop.js';
import { RunDir } from '../train/run-dir.js';
import { summaryOf, type RunEvents, type RunOptions, type RunSummary } from '../train/run.js';
import type { SplitStats } from '../data/build.js';
import { buildTaskData, checkTasks, type TaskData } from './task-data.js';
import { TaskMixture } from './mixture.js';
import { evaluateTasks, type TasksResult } from './evaluate.js';

export interface MultiTaskSummary extends RunSummary {
  /** Each task's metrics after training. */
  tasks: Record<string, Record<string, number>>;
  sampling: { rule: string; temperature: number; probabilities: Record<string, number> };
}

function taskMetrics(r: TasksResult): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(r.tasks).map(([name, t]) => [name, t.metrics]));
}

export async function runMultiTask(plan: Plan, opts: RunOptions, ev: RunEvents = {}): Promise<MultiTaskSummary> {
  const wall = Date.now();
  const entries = plan.tasks!;
  const scans = await checkTasks(plan);
  const existing = opts.resumeDir ? RunDir.open(opts.resumeDir) : null;
  const run = existing ?? RunDir.create(plan.output.dir, plan.name);
  if (!existing) run.writePlan(plan);
  const s = await openSession(plan, { backend: opts.backend });
  ev.onBackend?.(s.backend);
  ev.onSession?.(s, run.path);
  const data: TaskData[] = [];
  for (const entry of entries) data.push(await buildTaskData(plan, entry, s.tokenizer, { config: s.model.config, dir: s.modelDir }, scans));
  const stats: Record<string, SplitStats> = {};
  for (const d of data) for (const [split, st] of Object.entries(d.stats)) stats[`${d.entry.name}/${split}`] = st;
  ev.onData?.(stats);
  const evals = data.filter((d) => d.eval).map((d) => ({ entry: d.entry, batches: () => d.eval!.sequential() }));
  const evaluate = evals.length > 0 ? () => evaluateTasks(s, evals) : undefined;
  const before = evaluate?.() ?? null;
  if (before) {
    ev.onEvalBefore?.(before);
    run.appendMetrics({ type: 'eval', step: 0, phase: 'before', ...before.metrics, examples: before.examples });
  }
  const sampling = plan.training.sampling ?? { rule: 'proportional', temperature: 1 };
  const mixture = new TaskMixture(data.map((d) => d.train), sampling, plan.seed);
  let resumedFrom: string | null = null;
  const result = await trainLoop(s, { train: mixture, validation: null, evaluate }, run, {
    ...ev,
    onStart: (info) => {
      resumedFrom = info.resumedFrom;
      ev.onStart?.(info);
    },
  }, Boolean(opts.resumeDir));
  const after = evaluate?.() ?? null;
  if (after) {
    ev.onEvalAfter?.(after);
    run.appendMetrics({ type: 'eval', step: result.steps, phase: 'after', ...after.metrics, examples: after.examples });
  }
  const summary: MultiTaskSummary = {
    ...summaryOf(plan, s, run, { result, before, after, resumedFrom, wall }),
    sample: null,
    data: stats,
    tasks: after ? taskMetrics(after) : {},
    sampling: {
      rule: sampling.rule, temperature: sampling.temperature,
      probabilities: Object.fromEntries(entries.map((e, i) => [e.name, sampling.rule === 'round-robin' ? 1 / entries.length : mixture.probabilities[i]!])),
    },
  };
  run.writeSummary(summary as unknown as Record<string, unknown>);
  tf.disposeVariables();
  return summary;
}
