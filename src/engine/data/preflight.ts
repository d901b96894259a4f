// Checks before compute: every split the run reads is scanned (rows counted, every row mapped)
// before the backbone is built, so an empty split, a label outside the set, a malformed or
// non-UTF-8 line stops the run at once with its file:line — not at step 9,000, and not after a
// minute of loading weights. Under on_error: skip the scan only counts what will be skipped.
import type { Plan } from '../../plan/index.js';
import { checkScan, scanSplit } from './scan.js';
import { resolveSplits } from './split.js';
import { columnsOf, sourceOptionsForTask, type SplitName } from './build.js';
import type { ScanResult } from './types.js';

export interface PreflightOptions {
  /** Splits to check (default: train and validation). */
  splits?: SplitName[];
}

export async function checkData(plan: Plan, opts: PreflightOptions = {}): Promise<Partial<Record<SplitName, ScanResult>>> {
  const splits = resolveSplits(plan.data);
  const names = opts.splits ?? ['train', 'validation'];
  const packing = plan.task.type === 'causal-lm' && plan.data.packing;
  const out: Partial<Record<SplitName, ScanResult>> = {};
  for (const name of names) {
    const sp = splits[name];
    if (!sp) continue;
    // a packed split's limit counts blocks, not rows: scan all of it
    const scanned = packing ? { ...sp, limit: null } : sp;
    const limit = packing || name === 'train' ? null : plan.eval.limit;
    const result = await scanSplit(name, scanned, {
      task: plan.task, columns: columnsOf(plan, sp), seed: plan.seed, limit, source: sourceOptionsForTask(plan),
    });
    out[name] = checkScan(result, scanned, plan.data.onError, limit);
  }
  return out;
}
