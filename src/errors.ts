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

/** The hint of an error that names none: what to do about each kind of problem. */
const DEFAULT_HINTS: Record<ErrorCode, string> = {
  USAGE: 'peft --help lists the commands and options',
  YAML: 'check the YAML syntax at this place',
  SCHEMA: 'peft validate lists every problem; docs/recipes.md documents the keys',
  RECIPE: 'docs/recipes.md documents what each key may be',
  EXTENDS: 'paths in extends are relative to the file that names them',
  FILE: 'check the path and its permissions',
  FORMAT: 'the file is damaged or not in the expected format: re-create or re-download it',
  SHAPE: 'the tensors do not match the model: is this file for this backbone?',
  BACKBONE: 'backbone.path must be a Hugging Face model directory of a supported family',
  DATA: 'fix the row, or set data.on_error: skip to skip bad rows',
  BACKEND: 'peft train --backend cpu always works',
  DIVERGED: 'lower optimizer.lr or set training.max_grad_norm',
  INTERRUPTED: 'peft train --resume RUN_DIR continues the run',
  QUEUE: 'is redis-server running at the URL given (--queue)? docs/sweeps.md says how to start one',
  VERSION: 'run the same peft version in the sweep and its workers',
  RUN: 'run again with --debug for details',
};

export interface PeftErrorOptions {
  /** Where: `file:line:col`, a tensor name, `file:row`, a JSON path. */
  where?: string;
  /** What to do about it. */
  hint?: string;
  cause?: unknown;
  /** The process exit code, when it is not the code's own (a run stopped by SIGTERM: 143). */
  exitCode?: number;
}

export class PeftError extends Error {
  readonly code: ErrorCode;
  readonly where?: string;
  readonly hint?: string;
  private readonly exit?: number;

  constructor(code: ErrorCode, message: string, options: PeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PeftError';
    this.code = code;
    this.where = options.where;
    this.hint = options.hint;
    this.exit = options.exitCode;
  }

  get exitCode(): number {
    if (this.exit !== undefined) return this.exit;
    if (this.code === 'INTERRUPTED') return 130; // the shell's convention for SIGINT
    return INPUT_CODES.has(this.code) ? 2 : 1;
  }

  /** The hint, or the default one of the error's kind: every error printed has a hint. */
  get hintText(): string {
    return this.hint ?? DEFAULT_HINTS[this.code];
  }

  /** `where  message (hint: …)` on one line. */
  toLine(): string {
    const parts = [this.where ? `${this.where}  ${this.message}` : this.message, `(hint: ${this.hintText})`];
    return parts.join(' ').replace(/\s*\n\s*/g, ' ');
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, where: this.where, hint: this.hintText };
  }
}

export function isPeftError(e: unknown): e is PeftError {
  return e instanceof PeftError;
}
