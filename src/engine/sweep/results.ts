// The sweep's live table: results.md and results.csv rewritten (atomically) each time a trial
// ends, one row per trial — a trial run twice is still one row — with the best one marked.
import { join } from 'node:path';
import type { SweepSelect } from '../../plan/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { collectRuns, csvTable, fmtMetric, markdownTable, reportRows, type ReportRow, type RunRecord } from '../report/index.js';
import { readSweepFile } from './sweep-file.js';
import { trialState } from './trial-state.js';

export interface SweepRow extends ReportRow {
  trial: string;
  failed: string | null;
}

export interface SweepTable {
  rows: SweepRow[];
  best: SweepRow | null;
  runs: RunRecord[];
}

/** The best finished trial by the sweep's selection metric (tuning trials only). */
export function bestRow(rows: readonly SweepRow[], select: SweepSelect): SweepRow | null {
  let best: SweepRow | null = null;
  for (const r of rows) {
    if (r.kind !== 'trial' || r.status !== 'done') continue;
    const v = r.metrics[select.metric];
    if (v === undefined || !Number.isFinite(v)) continue;
    const b = best?.metrics[select.metric];
    if (b === undefined || (select.mode === 'max' ? v > b : v < b)) best = r;
  }
  return best;
}

/** Reads every trial's run directory; writes results.md and results.csv. */
export function writeResults(dir: string): SweepTable {
  const file = readSweepFile(dir);
  const runs = collectRuns([dir]);
  const rows: SweepRow[] = reportRows(runs).map((r, i) => {
    const st = trialState(runs[i]!.dir);
    return { ...r, trial: runs[i]!.trialId ?? '', failed: st.kind === 'failed' ? st.error.message : null, status: r.status };
  });
  const best = bestRow(rows, file.select);
  const pending = file.trials.length - rows.filter((r) => r.kind === 'trial').length;
  const lines = [
    `# sweep ${file.name} (${file.id})`,
    '',
    `${rows.filter((r) => r.status === 'done' && r.kind === 'trial').length} of ${file.trials.length} trials finished${pending > 0 ? `, ${pending} not started` : ''}. ` +
      `Trials are compared by validation ${file.select.metric} (${file.select.mode === 'max' ? 'higher' : 'lower'} is better), of the adapter each run kept.`,
    best ? `Best: \`${best.label}\` with ${file.select.metric} ${fmtMetric(best.metrics[file.select.metric])}.` : '',
    file.evaluation ? `Reality check: \`${file.evaluation.label}\` selected on the tuning split (${file.select.metric} ${fmtMetric(file.evaluation.tune_value)}), trained again on the evaluation split: the \`(evaluation)\` row.` : '',
    '',
    markdownTable(rows),
  ];
  const failed = rows.filter((r) => r.failed);
  if (failed.length) lines.push('Failed (retried when the sweep runs again):', '', ...failed.map((r) => `- \`${r.label}\`: ${r.failed}`), '');
  writeFileAtomic(join(dir, 'results.md'), lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n'));
  writeFileAtomic(join(dir, 'results.csv'), csvTable(rows));
  return { rows, best, runs };
}
