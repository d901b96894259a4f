// peft eval RUN_DIR|RECIPE: the run's plan and adapter, evaluated on a split of its data (or any
// file with the recipe's columns), with the loss and every metric of eval.metrics.
import chalk from 'chalk';
import type { Argv } from 'yargs';
import { asList, type Command } from '../command.js';
import type { Output } from '../output.js';
import { planFromFile } from '../plan-file.js';
import { CountProgress } from '../count-progress.js';
import { formatDuration } from '../progress.js';
import { parseWeights } from '../weights.js';

interface EvalArgs {
  target?: string;
  data?: string;
  split?: string;
  set?: string | string[];
  'on-error'?: string;
  adapter?: string | string[];
  weights?: string;
  stack?: boolean;
  head?: number;
  backend?: string;
  task?: string;
}

/** The options of the commands that take RUN_DIR|RECIPE (eval, predict), after their own. */
export function withRunTargetOptions(y: Argv): Argv {
  return y
    .positional('target', { type: 'string', describe: 'a run directory (runs/<name>/<time>) or a recipe' })
    .option('adapter', { type: 'string', array: true, describe: 'use this adapter directory (peft, Python peft or AdapterHub layout) instead of the run\'s; repeat it to combine several on the fly' })
    .option('weights', { type: 'string', describe: 'with several --adapter: one weight each, comma-separated (default 1 each)' })
    .option('stack', { type: 'boolean', describe: 'with several --adapter: compose them in order, the first lowest (a language adapter under a task adapter), instead of adding their changes' })
    .option('head', { type: 'number', describe: 'with several --adapter: use the task head of adapter N (1-based; default: the last that has one)' })
    .option('on-error', { type: 'string', choices: ['fail', 'skip'], describe: 'bad input rows: stop at the first (default: the run\'s data.on_error) or skip them' })
    .option('set', { type: 'string', array: true, describe: 'override a key of a recipe: --set eval.limit=100' })
    .option('task', { type: 'string', describe: 'a run of several tasks: the task (its data, labels and task id; eval default: every task and their mean)' })
    .option('backend', { type: 'string', describe: 'force a backend: tensorflow-gpu, tensorflow, native, wasm, cpu' });
}

/** RUN_DIR|RECIPE [--adapter …] → the engine's run target, with --on-error applied, and how several adapters combine. */
export async function runTargetOf(args: EvalArgs, out: Output) {
  const engine = await import('../../engine/index.js');
  const sets = asList(args.set);
  const adapters = asList(args.adapter);
  const target = engine.resolveRunTarget(args.target, {
    adapter: adapters, planFile: (f) => planFromFile(f, sets), warn: (m) => out.warn(m),
  });
  const mix = {
    weights: args.weights === undefined ? undefined : parseWeights(args.weights, Math.max(adapters.length, 1)),
    stack: args.stack, head: args.head,
  };
  if (adapters.length > 1) {
    out.info(`${chalk.bold('adapters')} ${adapters.length}, ${args.stack ? 'stacked in order (first lowest)' : 'changes added'}: ${adapters.map((a, i) => `${a} × ${mix.weights?.[i] ?? 1}`).join(', ')}`);
  }
  return { engine, target: { ...target, plan: engine.withOnError(target.plan, args['on-error']) }, mix };
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
    const { engine, target, mix } = await runTargetOf(args, out);
    const progress = new CountProgress(out, 'eval');
    let r;
    try {
      r = await engine.evaluateRun(target, { ...mix, data: args.data, split: args.split ?? 'validation', backend: args.backend, task: args.task }, {
        onBackend: (b) => out.info(`${chalk.bold('backend')} ${b.name} (${b.threads} thread${b.threads === 1 ? '' : 's'})`),
        onWarning: (w) => out.warn(w),
        onData: (d) => {
          out.info(`${chalk.bold('data')}    ${d.name}: ${d.examples} examples from ${d.path}`);
          progress.start(d.examples);
        },
        onProgress: (n) => progress.update(n),
      });
    } finally {
      progress.stop();
    }
    const wall = (Date.now() - started) / 1000;
    out.info(`${chalk.bold(r.split)} ${Object.entries(r.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join('  ')}`);
    if (r.skipped > 0) out.warn(`skipped ${r.skipped} bad row(s) in ${r.path}`);
    out.info(`${chalk.bold('done')}    ${r.examples} examples in ${formatDuration(wall)}`);
    out.result({
      ok: true, run_dir: target.runDir, adapter_dir: target.adapterDir, adapters: target.adapterDirs, weights: mix.weights ?? null, stack: Boolean(mix.stack), split: r.split, path: r.path,
      examples: r.examples, skipped: r.skipped, metrics: r.metrics, wall_time_s: wall,
    });
    return 0;
  },
};

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}
