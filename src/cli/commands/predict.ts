// peft predict RUN_DIR --input rows.jsonl --output preds.jsonl: one JSON line per input row, in
// order (label and probabilities, value, tags or generated text; or --logits: the raw logits),
// written atomically. Rows are text in the recipe's columns, or token ids ({"input_ids": […]}).
import chalk from 'chalk';
import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';
import { CountProgress } from '../count-progress.js';
import { formatDuration } from '../progress.js';
import { runTargetOf, withRunTargetOptions } from './eval.js';

interface PredictArgs {
  target?: string;
  input?: string;
  output?: string;
  'batch-size'?: number;
  'max-new-tokens'?: number;
  logits?: boolean;
  set?: string | string[];
  'on-error'?: string;
  adapter?: string;
  backend?: string;
}

export const predictCommand: Command<PredictArgs> = {
  command: 'predict [target]',
  describe: 'predict with a run (or a recipe\'s latest run): one JSON line per input row',
  builder: (y) =>
    withRunTargetOptions(y
      .option('input', { type: 'string', describe: 'rows to predict (the recipe\'s columns; labels not needed)' })
      .option('output', { type: 'string', describe: 'where to write the predictions (JSONL)' })
      .option('batch-size', { type: 'number', describe: 'rows per forward pass (default: eval.batch_size)' })
      .option('max-new-tokens', { type: 'number', describe: 'causal LM / seq2seq: tokens to generate (default: generate.max_new_tokens, else 48)' })
      .option('logits', { type: 'boolean', describe: 'write each row\'s raw logits (every position for token-level tasks) instead of its prediction' })
      .example('$0 predict RUN_DIR --input ids.jsonl --output logits.jsonl --logits', 'rows of {"input_ids": [...], "task_id"?: n}: the model\'s logits for each')),
  async run(args, out) {
    const started = Date.now();
    if (!args.input) throw new PeftError('USAGE', 'name the rows to predict: --input FILE', { hint: 'peft predict RUN_DIR --input rows.jsonl --output preds.jsonl' });
    if (!args.output) throw new PeftError('USAGE', 'name the output file: --output FILE', { hint: 'peft predict RUN_DIR --input rows.jsonl --output preds.jsonl' });
    const batchSize = args['batch-size'];
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) throw new PeftError('USAGE', `--batch-size must be an integer ≥ 1 (got ${batchSize})`);
    const { engine, target } = await runTargetOf(args, out);
    const progress = new CountProgress(out, 'predict');
    let r;
    try {
      r = await engine.predictRun(target, { input: args.input, output: args.output, batchSize, maxNewTokens: args['max-new-tokens'], logits: args.logits, backend: args.backend }, {
        onBackend: (b) => out.info(`${chalk.bold('backend')} ${b.name} (${b.threads} thread${b.threads === 1 ? '' : 's'})`),
        onWarning: (w) => out.warn(w),
        onStart: (n) => progress.start(n),
        onProgress: (n) => progress.update(n),
      });
    } finally {
      progress.stop();
    }
    const wall = (Date.now() - started) / 1000;
    if (r.skipped > 0) out.warn(`${r.skipped} bad row(s) got an error line instead of a prediction (data.on_error: skip)`);
    out.info(`${chalk.bold('done')}    ${r.predicted} of ${r.rows} rows predicted in ${formatDuration(wall)}`);
    out.info(`${chalk.bold('wrote')}   ${r.output}`);
    out.result({ ok: true, run_dir: target.runDir, input: r.input, output: r.output, rows: r.rows, predicted: r.predicted, skipped: r.skipped, wall_time_s: wall });
    return 0;
  },
};
