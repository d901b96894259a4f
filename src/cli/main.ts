// Argument parsing and dispatch only: each verb lives in commands/<verb>.ts.
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { createOutput, reportError } from './output.js';
import type { Command, GlobalArgs } from './command.js';
import { PeftError } from '../errors.js';
import { trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';
import { inspectCommand } from './commands/inspect.js';
import { methodsCommand } from './commands/methods.js';
import { schemaCommand } from './commands/schema.js';
import { convertCommand } from './commands/convert.js';
import { evalCommand } from './commands/eval.js';
import { predictCommand } from './commands/predict.js';
import { mergeCommand } from './commands/merge.js';
import { compressCommand } from './commands/compress.js';
import { sweepCommand } from './commands/sweep.js';
import { workerCommand } from './commands/worker.js';
import { reportCommand } from './commands/report.js';
import { reproduceCommand } from './commands/reproduce.js';
import { adaptTestCommand } from './commands/adapt-test.js';

const COMMANDS: Command<any>[] = [
  trainCommand,
  sweepCommand,
  workerCommand,
  reportCommand,
  reproduceCommand,
  validateCommand,
  inspectCommand,
  evalCommand,
  predictCommand,
  mergeCommand,
  compressCommand,
  adaptTestCommand,
  methodsCommand,
  schemaCommand,
  convertCommand,
];

export async function main(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  const wantsDebug = argv.includes('--debug');
  let exitCode = 0;

  let parser: Argv = yargs(argv)
    .scriptName('peft')
    .usage('$0 <command> [options]\n\nDeclarative parameter-efficient fine-tuning.')
    .option('json', { type: 'boolean', describe: 'print one JSON document on stdout, nothing else there' })
    .option('quiet', { type: 'boolean', alias: 'q', describe: 'print only errors and the result' })
    .option('debug', { type: 'boolean', describe: 'show stack traces for errors' })
    .demandCommand(1, 'name a command (peft --help lists them)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new PeftError('USAGE', msg, { hint: 'peft --help lists the commands and options' });
    });

  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, c.builder, async (args) => {
      const out = createOutput({ json: Boolean(args.json), quiet: Boolean(args.quiet) });
      try {
        exitCode = await c.run(args as unknown as GlobalArgs, out);
      } catch (e) {
        exitCode = reportError(e, out, Boolean(args.debug));
      }
    });
  }

  try {
    await parser.parseAsync();
  } catch (e) {
    exitCode = reportError(e, createOutput({ json: wantsJson }), wantsDebug);
  }
  return exitCode;
}
