// The one error class for mistakes a user can make (bad recipe, missing file, corrupt
// weights, wrong shapes, bad data, NaN loss). The CLI alone turns it into one line of text
// and an exit code; everything else just throws it.

export type ErrorCode =
  | 'USAGE' // bad command line
  | 'YAML' // recipe is not valid YAML
  | 'SCHEMA' // recipe does not match schemas/recipe.schema.json
  | 'RECIPE' // recipe is well-formed but means something impossible
  | 'EXTENDS' // extends chain broken (missing file, cycle)
  | 'FILE' // a file or directory is missing or unreadable
  | 'FORMAT' // a file is corrupt or not in the expected format
  | 'SHAPE' // a tensor has the wrong shape
  | 'BACKBONE' // unsupported or inconsistent backbone
  | 'DATA' // bad row in a dataset
  | 'BACKEND' // requested backend unavailable
  | 'DIVERGED' // NaN / infinite loss or a loss spike stopped the run
  | 'INTERRUPTED' // SIGINT
  | 'QUEUE' // the job queue (Redis) cannot be reached or used
  | 'VERSION' // a sweep and a worker run different peft versions
  | 'RUN'; // any other failure of a run

/** Codes whose cause is the user's input: exit code 2. The rest mean the run failed: 1. */
const INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE', 'YAML', 'SCHEMA', 'RECIPE', 'EXTENDS', 'FILE', 'FORMAT', 'SHAPE', 'BACKBONE', 'DATA', 'BACKEND', 'QUEUE', 'VERSION',
]);

export interface PeftErrorOptions {
  /** Where: `file:line:col`, a tensor name, `file:row`, a JSON path. */
  where?: string;
  /** What to do about it. */
  hint?: string;
  cause?: unknown;
}

export class PeftError extends Error {
  readonly code: ErrorCode;
  readonly where?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: PeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PeftError';
    this.code = code;
    this.where = options.where;
    this.hint = options.hint;
  }

  get exitCode(): number {
    if (this.code === 'INTERRUPTED') return 130; // the shell's convention for SIGINT
    return INPUT_CODES.has(this.code) ? 2 : 1;
  }

  /** `where  message (hint: …)` on one line. */
  toLine(): string {
    const parts = [this.where ? `${this.where}  ${this.message}` : this.message];
    if (this.hint) parts.push(`(hint: ${this.hint})`);
    return parts.join(' ').replace(/\s*\n\s*/g, ' ');
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, where: this.where, hint: this.hint };
  }
}

export function isPeftError(e: unknown): e is PeftError {
  return e instanceof PeftError;
}
