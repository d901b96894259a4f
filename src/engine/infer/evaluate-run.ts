// `peft eval`: a target's plan and adapter evaluated on a split of its data (or a file with the
// recipe's columns) — the file scanned before the model is loaded, then the loss and every metric
// of eval.metrics. The CLI renders the events.
import type { Plan } from '../../plan/index.js';
import type { BackendInfo } from '../backend/index.js';
import { scanSplit, checkScan } from '../data/index.js';
import { sourceOptionsForTask, buildSplit, columnsOf } from '../data/build.js';
import { openInference } from './inference.js';
import { evaluate } from './evaluate.js';
import { adapterChoiceOf, splitFor, type MixOptions, type RunTarget } from './target.js';
import { PeftError } from '../../errors.js';

export interface EvaluateRunOptions extends MixOptions {
  /** --data FILE instead of a split of the plan's data. */
  data?: string;
  split: string;
  backend?: string;
  /** A run of several tasks: evaluate this one (default: every task, and their mean). */
  task?: string;
}

export interface EvaluateRunEvents {
  onBackend?(b: BackendInfo): void;
  onWarning?(message: string): void;
  onData?(info: { name: string; path: string; examples: number }): void;
  onProgress?(done: number, total: number): void;
}

export interface EvaluateRunResult {
  split: string;
  path: string;
  examples: number;
  skipped: number;
  metrics: Record<string, number>;
}

export async function evaluateRun(target: RunTarget & { plan: Plan }, opts: EvaluateRunOptions, ev: EvaluateRunEvents = {}): Promise<EvaluateRunResult> {
  const plan = target.plan;
  if (plan.tasks) return (await import('../multitask/evaluate-run.js')).evaluateTasksRun(target, opts, ev);
  if (opts.task !== undefined) throw new PeftError('USAGE', `--task ${opts.task}: this run has one task`, { hint: 'leave --task out' });
  const { name, split } = splitFor(plan, opts.data, opts.split);
  // checks before compute: the file is scanned before the model is loaded
  const packing = plan.task.type === 'causal-lm' && plan.data.packing;
  const scanned = packing ? { ...split, limit: null } : split;
  const limit = packing ? null : plan.eval.limit;
  const scan = checkScan(await scanSplit(name, scanned, {
    task: plan.task, columns: columnsOf(plan, split), seed: plan.seed, limit, source: sourceOptionsForTask(plan),
  }), scanned, plan.data.onError, limit);
  const s = await openInference(plan, adapterChoiceOf(target, opts), { backend: opts.backend });
  ev.onBackend?.(s.backend);
  for (const w of s.warnings) ev.onWarning?.(w);
  const built = await buildSplit(plan, split, s.tokenizer, {
    name, batchSize: plan.eval.batchSize, shuffle: false, limit: plan.eval.limit, model: s.modelInfo, scans: { [name]: scan } as never,
  });
  ev.onData?.({ name, path: split.path, examples: built.stats.examples });
  const r = evaluate(s, built.batcher.byLength(), { onBatch: (n) => ev.onProgress?.(n, built.stats.examples) });
  return { split: name, path: split.path, examples: r.examples, skipped: built.stats.skipped, metrics: r.metrics };
}
