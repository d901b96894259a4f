// Evaluation of several tasks: each task on its own validation data with its own metrics (its
// plan view), and the mean over tasks of each task's score (its first metric) — what a multi-task
// run reports, keeps its best adapter by (`task_mean`) and may stop early on.
import type { Plan, TaskEntryPlan } from '../../plan/index.js';
import type { Batch } from '../data/batches.js';
import { evaluate, metricValue, type EvalResult } from '../infer/evaluate.js';
import type { Predictor } from '../infer/predict.js';
import { taskView } from './task-batches.js';

export interface TaskEval {
  entry: TaskEntryPlan;
  batches: () => Iterable<Batch>;
}

export interface TasksResult extends EvalResult {
  /** Each task's own result. */
  tasks: Record<string, EvalResult>;
}

/** The score a task contributes to the mean: its first metric (loss and perplexity count as they are). */
export function taskScore(r: EvalResult, entry: TaskEntryPlan): number {
  return metricValue(r, entry.metrics[0]!) ?? r.loss;
}

export function evaluateTasks(p: Predictor & { plan: Plan }, tasks: readonly TaskEval[]): TasksResult {
  const out: Record<string, EvalResult> = {};
  const metrics: Record<string, number> = {};
  const scores: number[] = [];
  let loss = 0;
  let examples = 0;
  for (const t of tasks) {
    const r = evaluate({ ...p, plan: taskView(p.plan, t.entry) }, t.batches());
    out[t.entry.name] = r;
    for (const [k, v] of Object.entries(r.metrics)) metrics[`${t.entry.name}/${k}`] = v;
    scores.push(taskScore(r, t.entry));
    loss += r.loss;
    examples += r.examples;
  }
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  const meanLoss = loss / Math.max(1, tasks.length);
  return { loss: meanLoss, metrics: { loss: meanLoss, task_mean: mean, ...metrics }, examples, tasks: out };
}
