// The on_error policy for bad rows: 'fail' stops at the first one with its place; 'skip' counts
// them by reason (keeping the first place and message of each) for the report at the end.

import { PeftError } from '../../errors.js';
import type { BadRowReason, BadRowReport, RowProblem } from './types.js';

export type OnError = 'fail' | 'skip';

export class BadRows {
  private readonly byReason: BadRowReport = {};
  private count = 0;

  constructor(readonly policy: OnError) {}

  /** Records a bad row; under 'fail' throws it as a DATA error instead. */
  record(problem: RowProblem, where: string): void {
    if (this.policy === 'fail') throw rowError(problem, where);
    this.add(problem, where);
  }

  /** Records without applying the policy (scans collect everything). */
  add(problem: RowProblem, where: string): void {
    this.count++;
    const entry = this.byReason[problem.reason];
    if (entry) entry.count++;
    else this.byReason[problem.reason] = { count: 1, first: where, message: problem.message };
  }

  get total(): number {
    return this.count;
  }

  /** Counts by reason, with the first place and message of each (a copy). */
  report(): BadRowReport {
    const out: BadRowReport = {};
    for (const [k, v] of Object.entries(this.byReason)) out[k as BadRowReason] = { ...v };
    return out;
  }

  /** `skipped 3 bad rows: 2 label (first at data/train.jsonl:7), 1 json (first at …:12)`, or ''. */
  summary(): string {
    return summarizeBadRows(this.byReason, this.count);
  }

  reset(): void {
    for (const k of Object.keys(this.byReason)) delete this.byReason[k as BadRowReason];
    this.count = 0;
  }
}

export function summarizeBadRows(report: BadRowReport, total: number): string {
  if (total === 0) return '';
  const parts = Object.entries(report).map(([reason, v]) => `${v.count} ${reason} (first at ${v.first}: ${v.message})`);
  return `skipped ${total} bad row${total === 1 ? '' : 's'}: ${parts.join('; ')}`;
}

/** A bad row as the one-line DATA error the CLI prints. */
export function rowError(problem: RowProblem, where: string): PeftError {
  return new PeftError('DATA', problem.message, { where, hint: problem.hint ?? 'fix the row, or set data.on_error: skip to skip bad rows' });
}
