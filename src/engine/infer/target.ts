// What `peft eval` and `peft predict` run on: a run directory (its plan and adapter), a recipe
// (its latest run with an adapter, else the untrained method), or a recipe with an adapter saved
// by any tool (Python peft, AdapterHub or ours) — and which split or file they read.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSplitPlan, Plan } from '../../plan/index.js';
import { formatFromPath, resolveSplits } from '../data/index.js';
import { RunDir } from '../train/run-dir.js';
import { isRunDir, latestRunOf, type AdapterChoice } from './inference.js';
import { PeftError } from '../../errors.js';

export interface RunTarget {
  plan: Plan;
  /** The run directory, or null (a recipe without a run). */
  runDir: string | null;
  /** The adapter (the first of several --adapter), or null. */
  adapterDir: string | null;
  /** Every --adapter given (several are combined on the fly), else the run's adapter alone. */
  adapterDirs: string[];
}

export interface TargetOptions {
  /** --adapter DIR (repeatable): use these adapters instead of the run's. */
  adapter?: string | string[];
  /** Plans a recipe file (the recipes stage: validation errors are its to report). */
  planFile(file: string): Plan;
  warn(message: string): void;
}

export function resolveRunTarget(target: string | undefined, opts: TargetOptions): RunTarget {
  if (!target) throw new PeftError('USAGE', 'name a run directory or a recipe', { hint: 'peft eval runs/sst2-lora/20250101-120000' });
  const path = resolve(target);
  const given = opts.adapter === undefined ? [] : Array.isArray(opts.adapter) ? opts.adapter : [opts.adapter];
  if (given.length > 0) {
    const dirs = given.map((a) => {
      // a run directory stands for its adapter
      const dir = isRunDir(resolve(a)) ? RunDir.open(resolve(a)).adapterDir : resolve(a);
      if (!existsSync(join(dir, 'adapter_config.json'))) {
        throw new PeftError('FILE', 'no adapter_config.json in the adapter directory', { where: a, hint: 'name a directory saved by peft, Python peft or AdapterHub' });
      }
      return dir;
    });
    const runDir = isRunDir(path) ? path : null;
    const plan = runDir ? RunDir.open(runDir).readPlan() : opts.planFile(target);
    return { plan, runDir, adapterDir: dirs[0], adapterDirs: dirs };
  }
  if (isRunDir(path)) {
    const run = RunDir.open(path);
    if (!run.hasAdapter()) throw new PeftError('FILE', 'the run has no adapter yet', { where: path, hint: 'it was stopped before its first evaluation or its end' });
    return { plan: run.readPlan(), runDir: run.path, adapterDir: run.adapterDir, adapterDirs: [run.adapterDir] };
  }
  if (!/\.ya?ml$/i.test(target)) {
    throw new PeftError('FILE', 'not a run directory (no recipe.resolved.yaml) or a recipe file', { where: target, hint: 'name runs/<recipe>/<time>/ or a recipe .yaml' });
  }
  const plan = opts.planFile(target);
  const run = latestRunOf(plan);
  if (run) return { plan: run.readPlan(), runDir: run.path, adapterDir: run.adapterDir, adapterDirs: [run.adapterDir] };
  opts.warn(`no run of ${plan.name} under ${plan.output.dir}: evaluating the untrained method (the numbers before training)`);
  return { plan, runDir: null, adapterDir: null, adapterDirs: [] };
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

/** How several --adapter combine (eval, predict). */
export interface MixOptions {
  /** One per adapter. */
  weights?: number[];
  /** Compose in order (the first lowest) instead of summing their changes. */
  stack?: boolean;
  /** 1-based: whose task head is used. */
  head?: number;
}

/** What openInference loads for a target: its adapter, several combined, or none. */
export function adapterChoiceOf(target: RunTarget, mix: MixOptions = {}): AdapterChoice | null {
  if (target.adapterDirs.length === 0) {
    if (mix.weights || mix.stack || mix.head !== undefined) throw new PeftError('USAGE', '--weights, --stack and --head combine adapters: name them with --adapter DIR (repeated)');
    return null;
  }
  return { dirs: target.adapterDirs, weights: mix.weights, mode: mix.stack ? 'stack' : 'sum', head: mix.head };
}
