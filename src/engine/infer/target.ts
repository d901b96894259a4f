// What `peft eval` and `peft predict` run on: a run directory (its plan and adapter), a recipe
// (its latest run with an adapter, else the untrained method), or a recipe with an adapter saved
// by any tool (Python peft, AdapterHub or ours) — and which split or file they read.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSplitPlan, Plan } from '../../plan/index.js';
import { formatFromPath, resolveSplits } from '../data/index.js';
import { RunDir } from '../train/run-dir.js';
import { isRunDir, latestRunOf } from './inference.js';
import { PeftError } from '../../errors.js';

export interface RunTarget {
  plan: Plan;
  /** The run directory, or null (a recipe without a run). */
  runDir: string | null;
  adapterDir: string | null;
}

export interface TargetOptions {
  /** --adapter DIR: use this adapter instead of the run's. */
  adapter?: string;
  /** Plans a recipe file (the recipes stage: validation errors are its to report). */
  planFile(file: string): Plan;
  warn(message: string): void;
}

export function resolveRunTarget(target: string | undefined, opts: TargetOptions): RunTarget {
  if (!target) throw new PeftError('USAGE', 'name a run directory or a recipe', { hint: 'peft eval runs/sst2-lora/20250101-120000' });
  const path = resolve(target);
  if (opts.adapter !== undefined) {
    const dir = resolve(opts.adapter);
    if (!existsSync(join(dir, 'adapter_config.json'))) {
      throw new PeftError('FILE', 'no adapter_config.json in the adapter directory', { where: opts.adapter, hint: 'name a directory saved by peft, Python peft or AdapterHub' });
    }
    const runDir = isRunDir(path) ? path : null;
    const plan = runDir ? RunDir.open(runDir).readPlan() : opts.planFile(target);
    return { plan, runDir, adapterDir: dir };
  }
  if (isRunDir(path)) {
    const run = RunDir.open(path);
    if (!run.hasAdapter()) throw new PeftError('FILE', 'the run has no adapter yet', { where: path, hint: 'it was stopped before its first evaluation or its end' });
    return { plan: run.readPlan(), runDir: run.path, adapterDir: run.adapterDir };
  }
  if (!/\.ya?ml$/i.test(target)) {
    throw new PeftError('FILE', 'not a run directory (no recipe.resolved.yaml) or a recipe file', { where: target, hint: 'name runs/<recipe>/<time>/ or a recipe .yaml' });
  }
  const plan = opts.planFile(target);
  const run = latestRunOf(plan);
  if (run) return { plan: run.readPlan(), runDir: run.path, adapterDir: run.adapterDir };
  opts.warn(`no run of ${plan.name} under ${plan.output.dir}: evaluating the untrained method (the numbers before training)`);
  return { plan, runDir: null, adapterDir: null };
}

/** The plan with `--on-error` applied. */
export function withOnError(plan: Plan, onError: string | undefined): Plan {
  return onError === 'fail' || onError === 'skip' ? { ...plan, data: { ...plan.data, onError } } : plan;
}

/** The split to read: --data FILE (the recipe's columns), else --split of the plan's data. */
export function splitFor(plan: Plan, data: string | undefined, split: string): { name: string; split: DataSplitPlan } {
  if (data) {
    const path = resolve(data);
    const format = formatFromPath(path) ?? (plan.data.train?.format ?? 'jsonl');
    return { name: 'data', split: { path, format, limit: null, split: null } };
  }
  if (split !== 'validation' && split !== 'test' && split !== 'train') {
    throw new PeftError('USAGE', `--split must be validation, test or train (got ${split})`);
  }
  const sp = resolveSplits(plan.data)[split];
  if (!sp) throw new PeftError('USAGE', `the recipe has no data.${split}`, { hint: 'name a file with --data FILE' });
  return { name: split, split: sp };
}
