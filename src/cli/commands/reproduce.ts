// peft reproduce PAPER [--scale small|full]: the paper's shipped recipe set as one sweep (locally
// or on a queue), then the paper's numbers and ours side by side (full), or each of the paper's
// findings tested at small scale (small), written next to the sweep's table.
import chalk from 'chalk';
import { asList, type Command } from '../command.js';
import { PeftError } from '../../errors.js';
import { displayPath, planReproduction, type Scale } from '../../recipes/index.js';
import { printTrials, trialPrinter } from '../sweep-print.js';

interface ReproduceArgs {
  paper: string;
  scale?: Scale;
  set?: string | string[];
  output?: string;
  parallel?: number;
  'dry-run'?: boolean;
  backend?: string;
  queue?: string;
  'queue-name'?: string;
  status?: boolean;
  wait?: boolean;
}

export const reproduceCommand: Command<ReproduceArgs> = {
  command: 'reproduce <paper>',
  describe: 'run a paper\'s shipped recipe set and compare with the paper (configs/papers/<paper>/)',
  builder: (y) =>
    y
      .positional('paper', { type: 'string', demandOption: true, describe: 'a folder of configs/papers (he2022-unified) or a path to one' })
      .option('scale', { choices: ['small', 'full'] as const, default: 'small' as Scale, describe: 'small: the paper\'s findings on stories260K; full: the paper\'s rows on its backbones' })
      .option('set', { type: 'string', array: true, describe: 'override a key in every run' })
      .option('output', { type: 'string', describe: 'parent of the sweep directory (default runs/)' })
      .option('parallel', { type: 'number', default: 1, describe: 'runs at once on this machine' })
      .option('dry-run', { type: 'boolean', describe: 'list the runs, their plans and parameter counts; compute nothing' })
      .option('backend', { type: 'string', describe: 'force a backend' })
      .option('queue', { type: 'string', describe: 'enqueue the runs on BullMQ at redis://HOST:PORT for `peft worker`s' })
      .option('queue-name', { type: 'string', default: 'peft', describe: 'the BullMQ queue' })
      .option('status', { type: 'boolean', describe: 'with --queue: show progress and return' })
      .option('wait', { type: 'boolean', describe: 'with --queue: wait for the last run, then compare' }),
  async run(args, out) {
    const scale = args.scale ?? 'small';
    const { manifest, sweep } = planReproduction(args.paper, scale, { sets: asList(args.set), output: args.output });
    const engine = await import('../../engine/index.js');
    out.info(`${chalk.bold('paper')}   ${manifest.paper}`);
    out.info(`${chalk.bold('scale')}   ${scale}: ${(scale === 'full' ? manifest.scales.full?.about : manifest.scales.small?.about) ?? ''}`);
    if (args['dry-run']) {
      const counts = engine.trialCounts(sweep.trials);
      if (out.json) out.result({ ok: true, id: sweep.id, dir: sweep.dir, trials: sweep.trials.map((t) => ({ ...t, params: counts.get(t.id) })) });
      else printTrials(out, sweep, counts);
      return 0;
    }
    const missing = [...new Set(sweep.trials.map((t) => t.plan.backbone.path).filter((p) => !engine.hasWeights(p)))];
    if (missing.length && !args.queue) {
      throw new PeftError('FILE', `no weights in ${missing.map(displayPath).join(', ')} (config.json only)`, {
        hint: 'put the model.safetensors of each backbone there (or --set backbone.path=DIR); --dry-run lists the runs; --scale small runs on the shipped stories260K',
      });
    }
    let runs;
    if (args.queue) {
      const { queueSweep } = await import('../queue-sweep.js');
      const code = await queueSweep(sweep, args, out);
      if (!args.wait) return code;
      runs = engine.collectRuns([sweep.dir]);
    } else {
      if (args.parallel !== undefined && (!Number.isInteger(args.parallel) || args.parallel < 1)) {
        throw new PeftError('USAGE', `--parallel ${args.parallel}: must be an integer ≥ 1`, { hint: '--parallel 2' });
      }
      const r = await engine.runSweep(sweep, { parallel: args.parallel, backend: args.backend }, trialPrinter(out));
      runs = r.report ? engine.collectRuns([sweep.dir]) : [];
      if (r.failed.length) out.warn(`${r.failed.length} run(s) failed: ${r.failed.map((f) => f.label).join(', ')}; run the same command to retry them`);
    }
    const cmp = await engine.comparePaper(runs, manifest, scale, `${sweep.dir}/report`);
    out.info('');
    out.info(cmp.markdown.trimEnd());
    out.info('');
    for (const f of Object.values(cmp.figures)) out.info(`${chalk.bold('figure')}  ${f.png}`);
    out.info(`${chalk.bold('wrote')}   ${sweep.dir}/report/${scale === 'full' ? 'paper-vs-ours.md' : 'findings.md'}`);
    out.result({ ok: true, dir: sweep.dir, findings: cmp.findings, methods: cmp.methods, table: cmp.table });
    return 0;
  },
};
