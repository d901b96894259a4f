// Printing for commands. In --json mode stdout carries exactly one JSON document (the command's
// result or its error) and everything human goes to stderr; otherwise results go to stdout.
import chalk from 'chalk';
import { PeftError } from '../errors.js';

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Human-readable line to stdout (stderr in --json mode). Suppressed by --quiet. */
  info(line: string): void;
  /** Always shown (stderr): warnings and notes that must not be lost. */
  warn(line: string): void;
  /** The command's result: the JSON document in --json mode, nothing otherwise. */
  result(doc: unknown): void;
  /** Whether a live progress bar may be drawn (stderr is a terminal, not quiet/json). */
  readonly interactive: boolean;
}

export function createOutput(opts: { json?: boolean; quiet?: boolean }): Output {
  const json = Boolean(opts.json);
  const quiet = Boolean(opts.quiet);
  return {
    json,
    quiet,
    interactive: !json && !quiet && Boolean(process.stderr.isTTY),
    info(line) {
      if (quiet) return;
      if (json) process.stderr.write(line + '\n');
      else process.stdout.write(line + '\n');
    },
    warn(line) {
      process.stderr.write(chalk.yellow('warning: ') + line + '\n');
    },
    result(doc) {
      if (json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    },
  };
}

/** Turns any thrown value into an exit code, printing one line (or the JSON error document). */
export function reportError(e: unknown, out: Output, debug: boolean): number {
  if (e instanceof PeftError) {
    if (out.json) process.stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }, null, 2) + '\n');
    process.stderr.write(chalk.red('error: ') + e.toLine() + '\n');
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  if (out.json) {
    process.stdout.write(JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: err.message } }, null, 2) + '\n');
  }
  process.stderr.write(chalk.red('internal error: ') + err.message + '\n');
  if (debug) process.stderr.write((err.stack ?? '') + '\n');
  else process.stderr.write('(this is a bug in peft; run again with --debug for the stack trace)\n');
  return 1;
}
