// One split as a stream of examples: source rows → seeded split selection → row mapping (with the
// on_error policy) → limit. Re-iterable (each pass re-reads the file), so epochs stream too.

import type { DataSplitPlan, TaskPlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { flatten } from './flatten.js';
import { BadRows, type OnError } from './policy.js';
import { columnsByPosition, isProblem, RowMapper } from './rows.js';
import { displayPath, openSourceBatches, readLineBatches } from './sources/index.js';
import { SplitSelector, splitCount } from './split.js';
import type { Example, SourceOptions } from './types.js';
import { cutByClass, readingTask } from './classes.js';

export interface ReadOptions {
  /** Split name for messages ('train', 'validation', 'test'). */
  name?: string;
  task: Pick<TaskPlan, 'type' | 'labels' | 'numLabels'>;
  /** `data.columns`: role → column. */
  columns?: Readonly<Record<string, string>>;
  /** Default 'fail'. */
  onError?: OnError;
  /** The recipe's seed: required for a seeded split (`split: {of, fraction, part}`). */
  seed?: number;
  /** Require labels (default true). */
  withLabels?: boolean;
  /** A further cap on examples (e.g. eval.limit); the smaller of this and the plan's limit wins. */
  limit?: number | null;
  /** Rows of the source file when already known (a scan's `sourceRows`): skips a counting pass. */
  totalRows?: number;
  source?: SourceOptions;
}

/** Rows of a source file, as a seeded split needs them (bad rows included). */
export async function countSourceRows(plan: Pick<DataSplitPlan, 'path' | 'format'>, source: SourceOptions = {}): Promise<number> {
  let n = 0;
  if (plan.format === 'jsonl') {
    for await (const batch of readLineBatches(plan.path, source)) for (const { text, problem } of batch) if (problem || text.trim() !== '') n++;
    return n;
  }
  for await (const batch of openSourceBatches(plan, source)) n += batch.length;
  return n;
}

/**
 * Source options for a split: the caller's, plus `header: false` for CSV/TSV whose columns the
 * recipe names by position (`{text: '3', label: '1'}`, `{image: '0..63', label: '64'}`).
 */
export function sourceOptionsFor(columns: Readonly<Record<string, string>> | undefined, source: SourceOptions | undefined): SourceOptions {
  const out: SourceOptions = { ...source };
  if (out.header === undefined && columns !== undefined && columnsByPosition(columns)) out.header = false;
  return out;
}

export function effectiveLimit(plan: Pick<DataSplitPlan, 'limit'>, limit: number | null | undefined): number | null {
  const limits = [plan.limit, limit].filter((x): x is number => typeof x === 'number');
  return limits.length === 0 ? null : Math.min(...limits);
}

/** The error for a split that yields no example, with the likely cause as the hint. */
export function emptySplitError(name: string, plan: DataSplitPlan, rows: number, skipped: number, limit: number | null): PeftError {
  const what = `split ${name} has no examples`;
  let hint: string;
  if (limit === 0) hint = 'limit is 0';
  else if (skipped > 0) hint = `all ${skipped} of its rows were bad and skipped; run with data.on_error: fail to see the first one`;
  else if (plan.split !== null && rows === 0) hint = `split.fraction ${plan.split.fraction} selects no row of the file; use a larger fraction`;
  else hint = 'the file has no rows: check that it is the right file and format';
  return new PeftError('DATA', what, { where: displayPath(plan.path), hint });
}

export class ExampleReader implements AsyncIterable<Example> {
  /** Bad rows of the current (or last) pass. */
  readonly bad: BadRows;
  readonly mapper: RowMapper;
  private totalRows: number | undefined;
  private readonly source: SourceOptions;

  constructor(
    readonly plan: DataSplitPlan,
    private readonly options: ReadOptions,
  ) {
    this.bad = new BadRows(options.onError ?? 'fail');
    this.mapper = new RowMapper(readingTask(options.task, plan), options.columns, { withLabels: options.withLabels });
    this.totalRows = options.totalRows;
    this.source = sourceOptionsFor(options.columns, options.source);
  }

  get name(): string {
    return this.options.name ?? 'data';
  }

  /** Rows in the split (after split selection, before limit); counts the file when needed. */
  async rows(): Promise<number> {
    const total = await this.sourceRows();
    return this.plan.split === null ? total : splitCount(this.plan.split, total);
  }

  private async sourceRows(): Promise<number> {
    if (this.totalRows === undefined) this.totalRows = await countSourceRows(this.plan, this.source);
    return this.totalRows;
  }

  /** One example at a time. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Example> {
    return flatten(this.batches());
  }

  /**
   * Examples in the batches the source reads (a chunk of lines, a row group): one await per
   * batch, for consumers that handle many examples at once. Throws at the end of a pass that
   * yielded no example (an empty split).
   */
  async *batches(): AsyncGenerator<Example[]> {
    this.bad.reset();
    const limit = effectiveLimit(this.plan, this.options.limit);
    let selector: SplitSelector | null = null;
    if (this.plan.split !== null) {
      if (this.options.seed === undefined) throw new Error(`split ${this.name}: a seeded split needs the recipe's seed`);
      selector = new SplitSelector(this.plan.split, await this.sourceRows(), this.options.seed);
    }
    let yielded = 0;
    let rows = 0;
    let done = limit === 0;
    if (!done) {
      for await (const items of openSourceBatches(this.plan, this.source)) {
        const out: Example[] = [];
        for (const item of items) {
          if (selector !== null && !selector.accept()) continue;
          rows++;
          if (item.problem !== undefined) {
            this.bad.record(item.problem, item.where);
            continue;
          }
          const m = this.mapper.map(item.row, item.where, item.index);
          if (isProblem(m)) {
            this.bad.record(m, item.where);
            continue;
          }
          const kept = cutByClass(m, this.plan);
          if (kept === null) continue;
          out.push(kept);
          if (limit !== null && yielded + out.length >= limit) {
            done = true;
            break;
          }
        }
        if (out.length > 0) {
          yielded += out.length;
          yield out;
        }
        if (done) break;
      }
    }
    if (yielded === 0) throw emptySplitError(this.name, this.plan, rows, this.bad.total, limit);
  }
}
