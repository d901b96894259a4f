// peft worker --queue URL: take trials of `peft sweep --queue` off a BullMQ queue and run them
// (--concurrency at once, each in its own process) until stopped with Ctrl-C or SIGTERM.
import chalk from 'chalk';
import type { Command } from '../command.js';
import { PeftError } from '../../errors.js';

interface WorkerArgs {
  queue: string;
  'queue-name'?: string;
  concurrency?: number;
  backend?: string;
}

export const workerCommand: Command<WorkerArgs> = {
  command: 'worker',
  describe: 'run trials of sweeps enqueued with peft sweep --queue (on any machine that sees the recipes\' files)',
  builder: (y) =>
    y
      .option('queue', { type: 'string', demandOption: true, describe: 'the queue\'s Redis: redis://HOST:PORT' })
      .option('queue-name', { type: 'string', default: 'peft', describe: 'the BullMQ queue (as given to peft sweep)' })
      .option('concurrency', { type: 'number', default: 1, describe: 'trials at once (each in its own process)' })
      .option('backend', { type: 'string', describe: 'force a backend for the trials this worker runs' }),
  async run(args, out) {
    if (!Number.isInteger(args.concurrency) || (args.concurrency ?? 0) < 1) {
      throw new PeftError('USAGE', `--concurrency ${args.concurrency}: must be an integer ≥ 1`, { hint: 'one trial per core or two: --concurrency 2' });
    }
    const engine = await import('../../engine/index.js');
    const w = await engine.startWorker({ url: args.queue, name: args['queue-name'] ?? 'peft', concurrency: args.concurrency ?? 1, backend: args.backend }, {
      onReady: (i) => out.info(`${chalk.bold('worker')}  peft ${i.version} on ${args.queue} (${i.name}), ${i.concurrency} trial(s) at once; Ctrl-C stops`),
      onTrialStart: (d, attempt) => out.info(`${chalk.cyan('start')}   ${d.label} (${d.sweepId})${attempt > 1 ? ` attempt ${attempt}` : ''}`),
      onTrialMessage: (d, m) => {
        if (m.type === 'start' && m.resumedFrom) out.info(`        ${d.label}: resuming at step ${m.startStep}/${m.totalSteps}`);
      },
      onTrialEnd: (d, ok, msg) => out.info(`${ok ? chalk.green('done') : chalk.red('failed')}    ${d.label}: ${msg}`),
    });
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(130);
      stopping = true;
      out.info(chalk.yellow('stopping: running trials checkpoint and go back on the queue'));
      void w.close();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      await w.closed;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  },
};
