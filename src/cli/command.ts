import type { Argv } from 'yargs';
import type { Output } from './output.js';

/** Options every command takes. */
export interface GlobalArgs {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
  backend?: string;
}

/** A repeatable option's value (yargs gives one string or an array) as a list. */
export function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** One CLI verb: its yargs builder and its handler, which returns the exit code. */
export interface Command<A = Record<string, unknown>> {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  run: (args: A & GlobalArgs, out: Output) => Promise<number>;
}
