// peft report DIR…: a table (Markdown and CSV) and figures (SVG and PNG) of run and sweep directories.
import { resolve } from 'node:path';
import chalk from 'chalk';
import type { Command } from '../command.js';

interface ReportArgs {
  dirs: string[];
  out?: string;
  metric?: string;
  title?: string;
}

export const reportCommand: Command<ReportArgs> = {
  command: 'report <dirs..>',
  describe: 'tabulate and plot run or sweep directories (report.md, report.csv, figures as SVG and PNG)',
  builder: (y) =>
    y
      .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'run directories, sweep directories, or folders of them (runs/)' })
      .option('out', { type: 'string', describe: 'where to write (default: <first DIR>/report)' })
      .option('metric', { type: 'string', describe: 'the metric plotted against % trainable parameters (default: the first one)' })
      .option('title', { type: 'string', describe: 'the report\'s title' }),
  async run(args, out) {
    const engine = await import('../../engine/index.js');
    const dest = resolve(args.out ?? `${args.dirs[0]}/report`);
    const r = await engine.writeReport(args.dirs, dest, { metric: args.metric, title: args.title });
    if (!out.json) process.stdout.write(out.quiet ? '' : r.markdown.split('\n![')[0]!.trimEnd() + '\n\n');
    out.info(`${chalk.bold('wrote')}   ${dest}/report.md, report.csv`);
    for (const f of Object.values(r.figures)) out.info(`${chalk.bold('figure')}  ${f.svg}, ${f.png}`);
    out.result({ ok: true, out: dest, rows: r.rows, figures: r.figures });
    return 0;
  },
};
