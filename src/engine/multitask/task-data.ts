// Every task's data read and checked before compute: each task's splits scanned (its plan view),
// then its training split and the split it is evaluated on built into batchers, marked for the
// shared head.
import type { Plan, TaskEntryPlan } from '../../plan/index.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import { buildSplit, type ModelInfo, type SplitStats } from '../data/build.js';
import { checkData } from '../data/preflight.js';
import { resolveSplits } from '../data/split.js';
import type { ScanResult } from '../data/types.js';
import { PeftError } from '../../errors.js';
import { TaskBatches, taskView } from './task-batches.js';

export interface TaskData {
  entry: TaskEntryPlan;
  train: TaskBatches;
  /** The split the task is evaluated on (validation, or a stream's eval_split), or null. */
  eval: TaskBatches | null;
  stats: Record<string, SplitStats>;
}

export type TaskScans = Map<string, Partial<Record<string, ScanResult>>>;

/** Scans every task's training split and the split it is evaluated on, before any model exists. */
export async function checkTasks(plan: Plan, evalSplit: 'validation' | 'test' = 'validation'): Promise<TaskScans> {
  const out: TaskScans = new Map();
  for (const entry of plan.tasks ?? []) {
    const view = taskView(plan, entry);
    try {
      out.set(entry.name, await checkData(view, { splits: ['train', evalSplit] }));
    } catch (e) {
      if (e instanceof PeftError) throw new PeftError(e.code, `task ${entry.name}: ${e.message}`, { where: e.where, hint: e.hint });
      throw e;
    }
  }
  return out;
}

export async function buildTaskData(
  plan: Plan, entry: TaskEntryPlan, tok: TextTokenizer | null, model: ModelInfo, scans: TaskScans, evalSplit: 'validation' | 'test' = 'validation',
): Promise<TaskData> {
  const view = taskView(plan, entry);
  const splits = resolveSplits(view.data);
  const scanned = scans.get(entry.name) ?? {};
  const stats: Record<string, SplitStats> = {};
  const tr = await buildSplit(view, splits.train!, tok, { name: 'train', batchSize: plan.training.batchSize, shuffle: true, model, scans: scanned as never });
  stats.train = tr.stats;
  let evalBatches: TaskBatches | null = null;
  const sp = splits[evalSplit];
  if (sp) {
    const ev = await buildSplit(view, sp, tok, { name: evalSplit, batchSize: plan.eval.batchSize, shuffle: false, limit: plan.eval.limit, model, scans: scanned as never });
    stats[evalSplit] = ev.stats;
    evalBatches = new TaskBatches(entry, ev.batcher);
  }
  return { entry, train: new TaskBatches(entry, tr.batcher), eval: evalBatches, stats };
}
