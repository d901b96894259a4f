// peft adapt-test RUN_DIR|RECIPE --data FILE --method M: a trained classifier adapted to a test
// file without its labels (LAME, test-time batch statistics, α-BN, TENT, the label-shift
// adapter), online or offline; accuracy before and after when the file has labels; every row's
// prediction written as a JSON line.
import chalk from 'chalk';
import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';
import { CountProgress } from '../count-progress.js';
import { formatDuration } from '../progress.js';
import { runTargetOf, withRunTargetOptions } from './eval.js';

interface AdaptArgs {
  target?: string;
  data?: string;
  method?: string;
  mode?: string;
  output?: string;
  'batch-size'?: number;
  limit?: number;
  lr?: number;
  steps?: number;
  alpha?: number;
  knn?: number;
  momentum?: number;
  base?: string;
  set?: string | string[];
  'on-error'?: string;
  adapter?: string;
  backend?: string;
}

const METHODS = ['none', 'bn-stats', 'alpha-bn', 'tent', 'lame', 'label-shift'];

function positive(name: string, v: number | undefined, integer: boolean): void {
  if (v === undefined) return;
  if (!(Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)))) throw new PeftError('USAGE', `--${name} must be a positive ${integer ? 'integer' : 'number'} (got ${v})`);
}

export const adaptTestCommand: Command<AdaptArgs> = {
  command: 'adapt-test [target]',
  describe: 'test-time adaptation of a trained classifier on unlabelled test data, with accuracy before and after',
  builder: (y) =>
    withRunTargetOptions(y
      .option('data', { type: 'string', describe: 'the test file (the recipe\'s columns; labels optional, used only to score)' })
      .option('method', { type: 'string', choices: METHODS, describe: 'none | bn-stats | alpha-bn | tent | lame | label-shift' })
      .option('mode', { type: 'string', choices: ['online', 'offline'], default: 'online', describe: 'online: batch by batch; offline: a pass over the whole file first (where the method\'s paper defines it)' })
      .option('output', { type: 'string', describe: 'predictions (JSONL; default: <run>/tta/<method>-<mode>.jsonl)' })
      .option('batch-size', { type: 'number', describe: 'test batch size (default: eval.batch_size)' })
      .option('limit', { type: 'number', describe: 'read at most this many rows' })
      .option('lr', { type: 'number', describe: 'tent, label-shift: learning rate (default 1e-3)' })
      .option('steps', { type: 'number', describe: 'tent: steps per batch online, passes over the file offline (default 1)' })
      .option('alpha', { type: 'number', describe: 'alpha-bn: weight of the source statistics (default 0.9)' })
      .option('knn', { type: 'number', describe: 'lame: neighbours of the affinity (default 5)' })
      .option('momentum', { type: 'number', describe: 'label-shift: momentum of the label-distribution estimate (default 0.9)' })
      .option('base', { type: 'string', choices: ['none', 'bn-stats', 'tent'], describe: 'label-shift: the TTA method it runs on (default none)' })),
  async run(args, out) {
    const started = Date.now();
    if (!args.data) throw new PeftError('USAGE', 'name the test file: --data FILE', { hint: 'peft adapt-test RUN_DIR --data test.jsonl --method tent' });
    if (!args.method) throw new PeftError('USAGE', 'name the method: --method', { hint: `one of ${METHODS.join(', ')}` });
    positive('batch-size', args['batch-size'], true);
    positive('limit', args.limit, true);
    positive('steps', args.steps, true);
    positive('knn', args.knn, true);
    positive('lr', args.lr, false);
    const mode = (args.mode ?? 'online') as 'online' | 'offline';
    const { engine, target } = await runTargetOf(args, out);
    engine.checkTtaMethod(args.method, mode);
    const progress = new CountProgress(out, args.method);
    let r;
    try {
      r = await engine.adaptTest(target, {
        data: args.data, method: args.method, mode, batchSize: args['batch-size'], output: args.output, backend: args.backend, limit: args.limit,
        settings: {
          lr: args.lr, steps: args.steps, alpha: args.alpha, knn: args.knn, momentum: args.momentum,
          base: args.base as 'none' | 'bn-stats' | 'tent' | undefined,
        },
      }, {
        onBackend: (b) => out.info(`${chalk.bold('backend')} ${b.name} (${b.threads} thread${b.threads === 1 ? '' : 's'})`),
        onWarning: (w) => out.warn(w),
        onNote: (n) => out.info(`${chalk.bold('note')}    ${n}`),
        onData: (d) => {
          out.info(`${chalk.bold('data')}    ${d.examples} examples from ${d.path}${d.labelled ? '' : ' (no labels: predictions only)'}`);
          progress.start(d.examples);
        },
        onProgress: (n) => progress.update(n),
      });
    } finally {
      progress.stop();
    }
    const wall = (Date.now() - started) / 1000;
    if (r.before && r.after) {
      const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
      out.info(`${chalk.bold('accuracy')} ${pct(r.before.accuracy)} → ${pct(r.after.accuracy)} (${args.method}, ${mode})`);
    }
    out.info(`${chalk.bold('wrote')}   ${r.output} (${r.examples} rows) in ${formatDuration(wall)}`);
    out.result({
      ok: true, run_dir: target.runDir, method: r.method, mode: r.mode, data: r.path, examples: r.examples, labelled: r.labelled,
      before: r.before, after: r.after, output: r.output, notes: r.notes, wall_time_s: wall,
    });
    return 0;
  },
};
