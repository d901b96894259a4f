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

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory', EACCES: 'permission denied', EPERM: 'operation not permitted', EISDIR: 'is a directory',
  ENOTDIR: 'a path on the way is not a directory', EEXIST: 'already exists', ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system', EMFILE: 'too many open files', ENAMETOOLONG: 'the path is too long', ELOOP: 'too many symbolic links',
};

/**
 * The last line of defence for failures no check turned into a PeftError where they happened: a
 * file-system error (it names its path) and an allocation that failed are still one line with a
 * hint, not an "internal error".
 */
function asPeftError(e: unknown): PeftError | null {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string' && /^E[A-Z]+$/.test(err.code)) {
    const what = ERRNO_WORDS[err.code] ?? err.code;
    return new PeftError('FILE', `cannot ${err.syscall}: ${what}`, { where: err.path, hint: 'check the path, its permissions and the free space', cause: e });
  }
  if (e instanceof RangeError && /allocation failed|Invalid (typed )?array length|Array buffer allocation/i.test(e.message)) {
    return new PeftError('RUN', `out of memory (${e.message})`, { hint: 'a size in the recipe or in config.json is larger than this machine can hold: lower it', cause: e });
  }
  return null;
}

/** Turns any thrown value into an exit code, printing one line (or the JSON error document). */
export function reportError(thrown: unknown, out: Output, debug: boolean): number {
  const e = thrown instanceof PeftError ? thrown : (asPeftError(thrown) ?? thrown);
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
