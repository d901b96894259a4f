// `peft eval` of a run of several tasks: every task (or the one --task names) on its own split
// with its own metrics, and their mean; a stream's run through its strategy's inference after
// the stages it finished (so a class-incremental task ranges over every class it had seen).
import type { Plan, TaskEntryPlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { scanSplit, checkScan } from '../data/index.js';
import { sourceOptionsForTask, buildSplit, columnsOf } from '../data/build.js';
import { openInference } from '../infer/inference.js';
import { evaluate, type EvalResult } from '../infer/evaluate.js';
import { splitFor, type RunTarget } from '../infer/target.js';
import type { EvaluateRunEvents, EvaluateRunOptions, EvaluateRunResult } from '../infer/evaluate-run.js';
import { openStream, streamTasks } from '../continual/open-run.js';
import { evaluateStage } from '../continual/stage-eval.js';
import type { StreamedPlan } from '../continual/stream-model.js';
import { taskView, TaskBatches } from './task-batches.js';
import { taskScore } from './evaluate.js';
import { taskNamed } from './target.js';

export async function evaluateTasksRun(target: RunTarget & { plan: Plan }, opts: EvaluateRunOptions, ev: EvaluateRunEvents = {}): Promise<EvaluateRunResult> {
  const plan = target.plan;
  const named = taskNamed(plan, opts.task);
  if (opts.data && !named) {
    throw new PeftError('USAGE', '--data FILE on a run of several tasks needs --task NAME (the file has that task\'s columns)', { hint: `tasks: ${plan.tasks!.map((t) => t.name).join(', ')}` });
  }
  const s = await openInference(plan, target.adapterDir, { backend: opts.backend });
  ev.onBackend?.(s.backend);
  for (const w of s.warnings) ev.onWarning?.(w);
  const stream = plan.stream ? (plan as StreamedPlan) : null;
  const opened = stream ? openStream(s, stream, target.runDir) : null;
  const entries: TaskEntryPlan[] = named ? [named] : stream ? streamTasks(stream, opened!.stages) : plan.tasks!;
  const results: { entry: TaskEntryPlan; r: EvalResult; path: string; skipped: number; split: string }[] = [];
  for (const entry of entries) {
    const view = taskView(plan, entry);
    const { name, split } = splitFor(view, opts.data, opts.split);
    const packing = view.task.type === 'causal-lm' && view.data.packing;
    const scanned = packing ? { ...split, limit: null } : split;
    const limit = packing ? null : plan.eval.limit;
    const scan = checkScan(await scanSplit(name, scanned, {
      task: view.task, columns: columnsOf(view, split), seed: plan.seed, limit, source: sourceOptionsForTask(view),
    }), scanned, plan.data.onError, limit);
    const built = await buildSplit(view, split, s.tokenizer, {
      name, batchSize: plan.eval.batchSize, shuffle: false, limit: plan.eval.limit, model: s.modelInfo, scans: { [name]: scan } as never,
    });
    ev.onData?.({ name: `${entry.name}/${name}`, path: split.path, examples: built.stats.examples });
    const batches = new TaskBatches(entry, built.batcher);
    const r = stream && opened
      ? evaluateStage(s, stream, opened.strategy, batches, opened.stages, opened.lm)
      : evaluate({ ...s, plan: view }, batches.sequential(), { onBatch: (n) => ev.onProgress?.(n, built.stats.examples) });
    results.push({ entry, r, path: split.path, skipped: built.stats.skipped, split: name });
  }
  if (results.length === 1) {
    const { r, path, skipped, split, entry } = results[0]!;
    return { split: `${entry.name}/${split}`, path, examples: r.examples, skipped, metrics: r.metrics };
  }
  const metrics: Record<string, number> = {
    task_mean: results.reduce((a, x) => a + taskScore(x.r, x.entry), 0) / results.length,
    loss: results.reduce((a, x) => a + x.r.loss, 0) / results.length,
  };
  for (const { entry, r } of results) for (const [k, v] of Object.entries(r.metrics)) metrics[`${entry.name}/${k}`] = v;
  return {
    split: opts.split, path: results.map((x) => x.path).join(', '), examples: results.reduce((n, x) => n + x.r.examples, 0),
    skipped: results.reduce((n, x) => n + x.skipped, 0), metrics,
  };
}
