// A cheap pass over every split before training: counts rows, maps every row (so unknown labels
// and malformed lines show up now, not at step 9,000), and returns statistics — rows, bad rows by
// reason, the label distribution. `checkScan` turns a failed scan into the error the run would
// have hit: an empty split always, the first bad row under on_error: fail.

import type { DataPlan, DataSplitPlan, TaskPlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { countSourceRows, effectiveLimit, emptySplitError, sourceOptionsFor } from './examples.js';
import { BadRows, rowError, type OnError } from './policy.js';
import { isProblem, RowMapper } from './rows.js';
import { openSourceBatches } from './sources/index.js';
import { resolveSplits, SplitSelector, splitCount } from './split.js';
import type { RowProblem, ScanResult, SourceOptions } from './types.js';
import { cutByClass, readingTask } from './classes.js';

export interface ScanOptions {
  task: Pick<TaskPlan, 'type' | 'labels' | 'numLabels'>;
  columns?: Readonly<Record<string, string>>;
  seed: number;
  withLabels?: boolean;
  limit?: number | null;
  source?: SourceOptions;
}

export async function scanSplit(name: string, plan: DataSplitPlan, options: ScanOptions): Promise<ScanResult> {
  const source = sourceOptionsFor(options.columns, options.source);
  const sourceRows = await countSourceRows(plan, source);
  const rows = plan.split === null ? sourceRows : splitCount(plan.split, sourceRows);
  const selector = plan.split === null ? null : new SplitSelector(plan.split, sourceRows, options.seed);
  const mapper = new RowMapper(readingTask(options.task, plan), options.columns, { withLabels: options.withLabels });
  const bad = new BadRows('skip');
  const limit = effectiveLimit(plan, options.limit);
  const labelCounts = new Map<number, number>();
  let firstBad: { where: string; problem: RowProblem } | undefined;
  let examples = 0;
  let tMin = Infinity;
  let tMax = -Infinity;
  let tSum = 0;
  const regression = options.task.type === 'regression';

  scan: for await (const items of limit === 0 ? [] : openSourceBatches(plan, source)) {
    for (const item of items) {
      if (selector !== null && !selector.accept()) continue;
      const mapped = item.problem ?? mapper.map(item.row, item.where, item.index);
      if (isProblem(mapped)) {
        bad.add(mapped, item.where);
        firstBad ??= { where: item.where, problem: mapped };
        continue;
      }
      const m = cutByClass(mapped, plan);
      if (m === null) continue;
      examples++;
      if (m.label !== undefined) {
        if (regression) {
          tMin = Math.min(tMin, m.label);
          tMax = Math.max(tMax, m.label);
          tSum += m.label;
        } else {
          labelCounts.set(m.label, (labelCounts.get(m.label) ?? 0) + 1);
        }
      }
      for (const id of m.labels ?? []) labelCounts.set(id, (labelCounts.get(id) ?? 0) + 1);
      if (limit !== null && examples >= limit) break scan;
    }
  }

  const result: ScanResult = { split: name, path: plan.path, sourceRows, rows, examples, badRows: bad.total, bad: bad.report() };
  if (firstBad) result.firstBad = firstBad;
  if (regression && examples > 0 && options.withLabels !== false) result.targets = { min: tMin, max: tMax, mean: tSum / examples };
  if (labelCounts.size > 0) {
    result.labelCounts = {};
    for (const id of [...labelCounts.keys()].sort((a, b) => a - b)) result.labelCounts[mapper.labels.name(plan.classes?.keep[id] ?? id)] = labelCounts.get(id) as number;
  }
  return result;
}

/** Scans every split of the plan (seeded splits resolved as they will be read). */
export async function scanData(
  data: Pick<DataPlan, 'train' | 'validation' | 'test' | 'columns'>,
  options: Omit<ScanOptions, 'columns'>,
): Promise<Partial<Record<'train' | 'validation' | 'test', ScanResult>>> {
  const splits = resolveSplits(data);
  const out: Partial<Record<'train' | 'validation' | 'test', ScanResult>> = {};
  for (const name of ['train', 'validation', 'test'] as const) {
    const plan = splits[name];
    if (plan !== null) out[name] = await scanSplit(name, plan, { ...options, columns: data.columns });
  }
  return out;
}

/**
 * Throws what reading the split would throw: an empty split always (DATA), the first bad row
 * when the policy is 'fail' (with how many more there are). Returns the result otherwise.
 */
export function checkScan(result: ScanResult, plan: DataSplitPlan, onError: OnError, limit?: number | null): ScanResult {
  if (onError === 'fail' && result.firstBad !== undefined) {
    const e = rowError(result.firstBad.problem, result.firstBad.where);
    if (result.badRows > 1) {
      throw new PeftError('DATA', `${e.message} (and ${result.badRows - 1} more bad rows in split ${result.split})`, { where: e.where, hint: e.hint });
    }
    throw e;
  }
  if (result.examples === 0) throw emptySplitError(result.split, plan, result.rows, result.badRows, effectiveLimit(plan, limit));
  return result;
}
