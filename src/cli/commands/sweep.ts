// peft sweep RECIPE: many trials of one recipe (--grid, --random/--space, or its sweep: section),
// locally in --parallel processes or on a BullMQ queue (--queue; --status, --wait); --dry-run
// lists the trials with their plans and parameter counts and computes nothing.
import chalk from 'chalk';
import { asList, type Command } from '../command.js';
import type { Output } from '../output.js';
import { planSweep, type SweepPlan } from '../../recipes/index.js';
import { PeftError } from '../../errors.js';
import { printTrials, trialPrinter } from '../sweep-print.js';

interface SweepArgs {
  recipe: string;
  set?: string | string[];
  grid?: string | string[];
  random?: number;
  space?: string;
  output?: string;
  parallel?: number;
  'dry-run'?: boolean;
  backend?: string;
  queue?: string;
  'queue-name'?: string;
  status?: boolean;
  wait?: boolean;
}

export const sweepCommand: Command<SweepArgs> = {
  command: 'sweep <recipe>',
  describe: 'run many trials of a recipe (grid, random search, or its sweep: section), locally or on a queue',
  builder: (y) =>
    y
      .positional('recipe', { type: 'string', demandOption: true, describe: 'the recipe YAML file' })
      .option('grid', { type: 'string', array: true, describe: 'a swept key and its values: --grid optimizer.lr=1e-3,3e-3 (repeatable: their product)' })
      .option('random', { type: 'number', describe: 'N random trials drawn from --space' })
      .option('space', { type: 'string', describe: 'a YAML file of key → distribution ({log_uniform: [1e-4, 1e-2]}, {choice: [4, 8]}, …)' })
      .option('set', { type: 'string', array: true, describe: 'override a key in every trial: --set training.max_steps=200' })
      .option('output', { type: 'string', describe: 'parent of the sweep directory (default: the recipe\'s output.dir, runs/)' })
      .option('parallel', { type: 'number', default: 1, describe: 'trials at once on this machine (each in its own process)' })
      .option('dry-run', { type: 'boolean', describe: 'list the trials, their plans and parameter counts; compute nothing' })
      .option('backend', { type: 'string', describe: 'force a backend for every trial' })
      .option('queue', { type: 'string', describe: 'enqueue the trials on BullMQ at redis://HOST:PORT for `peft worker`s' })
      .option('queue-name', { type: 'string', default: 'peft', describe: 'the BullMQ queue (workers listen on the same name)' })
      .option('status', { type: 'boolean', describe: 'with --queue: show the trials\' progress and return' })
      .option('wait', { type: 'boolean', describe: 'with --queue: wait for the last trial, then write the table' }),
  async run(args, out) {
    if (args.parallel !== undefined && (!Number.isInteger(args.parallel) || args.parallel < 1)) {
      throw new PeftError('USAGE', `--parallel ${args.parallel}: the number of trials at once must be an integer ≥ 1`, { hint: '--parallel 2 on a machine with 2 or more cores' });
    }
    if ((args.status || args.wait) && !args.queue) {
      throw new PeftError('USAGE', `--${args.status ? 'status' : 'wait'} needs --queue URL`, { hint: 'a local sweep reports as it runs; its table is <sweep>/results.md' });
    }
    const sweep = planSweep({ recipes: [args.recipe], sets: asList(args.set), grid: asList(args.grid), random: args.random, space: args.space, output: args.output });
    const engine = await import('../../engine/index.js');
    if (args['dry-run']) {
      const counts = engine.trialCounts(sweep.trials);
      if (out.json) out.result({ ok: true, id: sweep.id, dir: sweep.dir, select: sweep.select, reality_check: sweep.realityCheck, trials: sweep.trials.map((t) => ({ ...t, params: counts.get(t.id) })) });
      else printTrials(out, sweep, counts);
      return 0;
    }
    if (args.queue) {
      const { queueSweep } = await import('../queue-sweep.js');
      return queueSweep(sweep, args, out);
    }
    return runLocal(sweep, args, out);
  },
};

async function runLocal(sweep: SweepPlan, args: SweepArgs, out: Output): Promise<number> {
  const engine = await import('../../engine/index.js');
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    out.info(chalk.yellow('interrupt: the running trials checkpoint and stop (Ctrl-C again to quit now); run the same command to continue'));
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await engine.runSweep(sweep, { parallel: args.parallel, backend: args.backend, shouldStop: () => interrupted }, trialPrinter(out));
    printOutcome(out, sweep, r);
    out.result({ ok: r.failed.length === 0, dir: r.dir, best: r.best, evaluation: r.evaluation, failed: r.failed, rows: r.rows });
    if (interrupted) throw new PeftError('INTERRUPTED', 'sweep interrupted; the running trials saved checkpoints', { where: sweep.dir, hint: 'run the same command again to continue' });
    return r.failed.length === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function printOutcome(out: Output, sweep: SweepPlan, r: { dir: string; best: { label: string; metrics: Record<string, number> } | null; evaluation: { label: string; metrics: Record<string, number> } | null; failed: { label: string; message: string }[]; report: { figures: Record<string, { png: string }> } | null }): void {
  const m = sweep.select.metric;
  if (r.best) out.info(`${chalk.bold('best')}    ${r.best.label}: validation ${m} ${r.best.metrics[m]?.toFixed(4)}`);
  if (r.evaluation) out.info(`${chalk.bold('report')}  ${r.evaluation.label} on the evaluation split: ${m} ${r.evaluation.metrics[m]?.toFixed(4)} (reality check)`);
  if (r.failed.length) out.warn(`${r.failed.length} trial(s) failed: ${r.failed.map((f) => f.label).join(', ')}; run the same command to retry them`);
  out.info(`${chalk.bold('table')}   ${r.dir}/results.md`);
  if (r.report) for (const f of Object.values(r.report.figures)) out.info(`${chalk.bold('figure')}  ${f.png}`);
}
