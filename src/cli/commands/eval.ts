// peft eval RUN_DIR|RECIPE: the run's plan and adapter, evaluated on a split of its data (or any
// file with the recipe's columns), with the loss and every metric of eval.metrics.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import chalk from 'chalk';
import { asList, type Command } from '../command.js';
import type { Argv } from 'yargs';
import type { Output } from '../output.js';
import type { Plan } from '../../recipes/index.js';
import type { DataSplitPlan } from '../../recipes/types.js';
import { PeftError } from '../../errors.js';
import { planFromFile } from './train.js';
import { CountProgress } from '../count-progress.js';
import { formatDuration } from '../progress.js';

interface EvalArgs {
  target?: string;
  data?: string;
  split?: string;
  set?: string | string[];
  'on-error'?: string;
  adapter?: string;
  backend?: string;
}

export interface RunTarget {
  plan: Plan;
  /** The run directory, or null (a recipe without a run). */
  runDir: string | null;
  adapterDir: string | null;
}

/**
 * RUN_DIR, or RECIPE (its latest run with an adapter; without one, the untrained method), or
 * RECIPE with --adapter DIR: an adapter saved by any tool (Python peft's layout, ours, or
 * AdapterHub's) on the recipe's backbone and task.
 */
export async function resolveRunTarget(target: string | undefined, sets: string[], out: Output, adapter?: string): Promise<RunTarget> {
  if (!target) throw new PeftError('USAGE', 'name a run directory or a recipe', { hint: 'peft eval runs/sst2-lora/20250101-120000' });
  const { isRunDir, latestRunOf } = await import('../../engine/train/inference.js');
  const { RunDir } = await import('../../engine/train/run-dir.js');
  const path = resolve(target);
  if (adapter !== undefined) {
    const dir = resolve(adapter);
    if (!existsSync(join(dir, 'adapter_config.json'))) {
      throw new PeftError('FILE', 'no adapter_config.json in the adapter directory', { where: adapter, hint: 'name a directory saved by peft, Python peft or AdapterHub' });
    }
    const runDir = isRunDir(path) ? path : null;
    const plan = runDir ? RunDir.open(runDir).readPlan() : planFromFile(target, sets, out);
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
  const plan = planFromFile(target, sets, out);
  const run = latestRunOf(plan);
  if (run) return { plan: run.readPlan(), runDir: run.path, adapterDir: run.adapterDir };
  out.warn(`no run of ${plan.name} under ${plan.output.dir}: evaluating the untrained method (the numbers before training)`);
  return { plan, runDir: null, adapterDir: null };
}

/** The plan with `--on-error` applied. */
export function withOnError(plan: Plan, onError: string | undefined): Plan {
  return onError === 'fail' || onError === 'skip' ? { ...plan, data: { ...plan.data, onError } } : plan;
}

/** The split to read: --data FILE (the recipe's columns), else --split of the plan's data. */
export async function splitFor(plan: Plan, data: string | undefined, split: string): Promise<{ name: string; split: DataSplitPlan }> {
  const { formatFromPath, resolveSplits } = await import('../../engine/data/index.js');
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

/** The options of the commands that take RUN_DIR|RECIPE (eval, predict), after their own. */
export function withRunTargetOptions(y: Argv): Argv {
  return y
    .positional('target', { type: 'string', describe: 'a run directory (runs/<name>/<time>) or a recipe' })
    .option('adapter', { type: 'string', describe: 'use this adapter directory (peft, Python peft or AdapterHub layout) instead of the run\'s' })
    .option('on-error', { type: 'string', choices: ['fail', 'skip'], describe: 'bad input rows: stop at the first (default: the run\'s data.on_error) or skip them' })
    .option('set', { type: 'string', array: true, describe: 'override a key of a recipe: --set eval.limit=100' })
    .option('backend', { type: 'string', describe: 'force a backend: tensorflow-gpu, tensorflow, native, wasm, cpu' });
}

export const evalCommand: Command<EvalArgs> = {
  command: 'eval [target]',
  describe: 'evaluate a run (or a recipe\'s latest run) on a split or a file',
  builder: (y) =>
    withRunTargetOptions(y
      .option('data', { type: 'string', describe: 'evaluate on this file (the recipe\'s columns) instead of a split' })
      .option('split', { type: 'string', default: 'validation', describe: 'the split of the recipe\'s data: validation or test' })),
  async run(args, out) {
    const started = Date.now();
    const sets = asList(args.set);
    const target = await resolveRunTarget(args.target, sets, out, args.adapter);
    const plan = withOnError(target.plan, args['on-error']);
    const { name, split } = await splitFor(plan, args.data, args.split ?? 'validation');
    const { scanSplit, checkScan } = await import('../../engine/data/index.js');
    const { sourceOptionsForTask, buildSplit, columnsOf } = await import('../../engine/data/build.js');
    // checks before compute: the file is scanned before the model is loaded
    const packing = plan.task.type === 'causal-lm' && plan.data.packing;
    const scanned = packing ? { ...split, limit: null } : split;
    const limit = packing ? null : plan.eval.limit;
    const scan = checkScan(await scanSplit(name, scanned, {
      task: plan.task, columns: columnsOf(plan, split), seed: plan.seed, limit, source: sourceOptionsForTask(plan),
    }), scanned, plan.data.onError, limit);
    const { openInference } = await import('../../engine/train/inference.js');
    const s = await openInference(plan, target.adapterDir, { backend: args.backend });
    out.info(`${chalk.bold('backend')} ${s.backend.name} (${s.backend.threads} thread${s.backend.threads === 1 ? '' : 's'})`);
    for (const w of s.warnings) out.warn(w);
    const built = await buildSplit(plan, split, s.tokenizer, {
      name, batchSize: plan.eval.batchSize, shuffle: false, limit: plan.eval.limit, model: s.modelInfo, scans: { [name]: scan } as never,
    });
    out.info(`${chalk.bold('data')}    ${name}: ${built.stats.examples} examples from ${split.path}`);
    const { evaluate } = await import('../../engine/train/evaluate.js');
    const progress = new CountProgress(out, 'eval');
    progress.start(built.stats.examples);
    const r = evaluate(s, built.batcher.sequential(), { onBatch: (n) => progress.update(n) });
    progress.stop();
    const wall = (Date.now() - started) / 1000;
    out.info(`${chalk.bold(name)} ${Object.entries(r.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`);
    if (built.stats.skipped > 0) out.warn(`skipped ${built.stats.skipped} bad row(s) in ${split.path}`);
    out.info(`${chalk.bold('done')}    ${r.examples} examples in ${formatDuration(wall)}`);
    out.result({
      ok: true, run_dir: target.runDir, adapter_dir: target.adapterDir, split: name, path: split.path,
      examples: r.examples, skipped: built.stats.skipped, metrics: r.metrics, wall_time_s: wall,
    });
    return 0;
  },
};

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}
