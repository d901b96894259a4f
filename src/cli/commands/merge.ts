// peft merge RUN_DIR [--out DIR]: fold the run's adapter into the backbone and write a Hugging
// Face model directory; a method that cannot be merged is refused with its reason.
import { join, resolve } from 'node:path';
import chalk from 'chalk';
import type { Command } from '../command.js';

interface MergeArgs {
  run: string;
  out?: string;
  backend?: string;
}

export const mergeCommand: Command<MergeArgs> = {
  command: 'merge <run>',
  describe: 'fold a run\'s mergeable adapter (LoRA, DoRA, LoHa, AdaLoRA, IA³, bias, a selection\'s sparse deltas) into the backbone; write a model directory',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'a run directory (runs/<recipe>/<time>)' })
      .option('out', { type: 'string', describe: 'output directory (default: <run>/merged)' })
      .option('backend', { type: 'string', describe: 'force a backend' }),
  async run(args, out) {
    const { mergeRun } = await import('../../engine/index.js');
    const dir = resolve(args.run);
    const target = resolve(args.out ?? join(dir, 'merged'));
    const r = await mergeRun(dir, target, { backend: args.backend });
    for (const m of r.merged) out.info(chalk.dim(`  merged ${m}`));
    out.info(`${chalk.bold('merged')} ${r.merged.length} site${r.merged.length === 1 ? '' : 's'} into ${r.family}; max |logit difference| vs the unmerged model ${r.maxLogitDiff.toExponential(2)}`);
    out.info(`${chalk.bold('wrote')}  ${target}`);
    out.result({ ok: true, out: target, merged: r.merged, files: r.files, max_logit_diff: r.maxLogitDiff });
    return 0;
  },
};
