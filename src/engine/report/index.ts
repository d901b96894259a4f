// `peft report DIR…`: the runs' table (report.md, report.csv) and figures (SVG and PNG), and the
// loss figure a training run leaves in its own directory.
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { RunDir } from '../train/run-dir.js';
import { collectRuns, type RunRecord } from './collect.js';
import { evalCurveSpec, hasData, metricVsParamsSpec, runLossSpec, trainLossSpec } from './figures.js';
import { writeFigure } from './render.js';
import { csvTable, markdownTable, metricNames, reportRows, type ReportRow } from './table.js';

export { collectRuns, keptMetrics } from './collect.js';
export type { RunRecord } from './collect.js';
export { reportRows, markdownTable, csvTable, metricNames, fmtMetric, fmtWall } from './table.js';
export type { ReportRow } from './table.js';
export { metricVsParamsSpec, trainLossSpec, evalCurveSpec } from './figures.js';
export { renderSvg, svgToPng, writeFigure } from './render.js';

export interface ReportResult {
  out: string;
  rows: ReportRow[];
  markdown: string;
  csv: string;
  /** Figure name → its files. */
  figures: Record<string, { svg: string; png: string }>;
}

export interface ReportOptions {
  /** The metric of the parameters figure (default: the first one the runs report). */
  metric?: string;
  title?: string;
}

/** Table and figures of `runs` into `out`. */
export async function writeReportFor(runs: RunRecord[], out: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const rows = reportRows(runs);
  const metrics = metricNames(rows);
  const metric = opts.metric ?? metrics[0];
  const figures: ReportResult['figures'] = {};
  const draw = async (name: string, spec: Record<string, unknown>) => {
    if (hasData(spec)) figures[name] = await writeFigure(spec, join(out, name));
  };
  const done = runs.filter((r) => r.summary);
  if (metric) await draw(`${metric}-vs-params`, metricVsParamsSpec(rows, metric, opts.title));
  await draw('train-loss', trainLossSpec(runs));
  for (const m of metrics) await draw(`eval-${m}`, evalCurveSpec(done.length ? done : runs, m));
  const csv = csvTable(rows);
  const title = opts.title ?? 'peft report';
  const figs = Object.entries(figures).map(([name, f]) => `![${name}](${relative(out, f.svg)})`).join('\n\n');
  const markdown = `# ${title}\n\n${rows.length} run${rows.length === 1 ? '' : 's'}, ${done.length} finished. Metrics are the validation metrics of the adapter each run kept.\n\n${markdownTable(rows)}\n${figs}\n`;
  writeFileAtomic(join(out, 'report.md'), markdown);
  writeFileAtomic(join(out, 'report.csv'), csv);
  return { out, rows, markdown, csv, figures };
}

/** `peft report DIR…`: every run found under the directories. */
export async function writeReport(dirs: readonly string[], out: string, opts: ReportOptions = {}): Promise<ReportResult> {
  return writeReportFor(collectRuns(dirs), out, opts);
}

/** `loss.svg` and `loss.png` in a run directory, from its metrics log. */
export async function writeRunFigure(runDir: string): Promise<{ svg: string; png: string } | null> {
  const run = RunDir.open(runDir);
  const rec: RunRecord = { dir: runDir, label: '', sweep: null, trialId: null, overrides: [], kind: 'run', plan: run.readPlan(), summary: null, metrics: run.readMetrics() };
  const spec = runLossSpec(rec);
  return hasData(spec) ? writeFigure(spec, join(runDir, 'loss')) : null;
}
