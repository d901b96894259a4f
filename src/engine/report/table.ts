// Runs → rows of the report table (metrics of the adapter kept, trainable and stored parameters,
// their share of the backbone, steps, wall time, backend) → Markdown and CSV.
import { overrideText, shortKeys } from '../../plan/index.js';
import { inspectPlan } from '../inspect.js';
import { keptMetrics, type RunRecord } from './collect.js';

export interface ReportRow {
  label: string;
  kind: RunRecord['kind'];
  method: string;
  /** Sweep key → value text (empty for lone runs). */
  overrides: Record<string, string>;
  /** Validation metrics of the adapter kept. */
  metrics: Record<string, number>;
  trainable_params: number | null;
  stored_params: number | null;
  total_params: number | null;
  trainable_percent: number | null;
  stored_percent: number | null;
  steps: number | null;
  wall_time_s: number | null;
  backend: string | null;
  status: 'done' | 'unfinished';
  run_dir: string;
}

/** Parameter counts from the plan and the backbone's config.json (null when it is not here). */
function params(r: RunRecord): { trainable: number; stored: number; total: number } | null {
  try {
    const i = inspectPlan(r.plan);
    return { trainable: r.summary?.trainable_params ?? i.trainable_params, stored: i.stored_params, total: r.summary?.total_params ?? i.total_params };
  } catch {
    return r.summary ? { trainable: r.summary.trainable_params, stored: NaN, total: r.summary.total_params } : null;
  }
}

export function reportRows(runs: readonly RunRecord[]): ReportRow[] {
  return runs.map((r) => {
    const p = params(r);
    const stored = p && Number.isFinite(p.stored) ? p.stored : null;
    return {
      label: r.label,
      kind: r.kind,
      method: r.plan.method.preset,
      overrides: Object.fromEntries(r.overrides.map((o) => [o.key, overrideText(o.value)])),
      metrics: keptMetrics(r),
      trainable_params: p?.trainable ?? null,
      stored_params: stored,
      total_params: p?.total ?? null,
      trainable_percent: p ? (100 * p.trainable) / p.total : null,
      stored_percent: p && stored !== null ? (100 * stored) / p.total : null,
      steps: r.summary?.steps ?? null,
      wall_time_s: r.summary?.wall_time_s ?? null,
      backend: r.summary?.backend ?? null,
      status: r.summary ? 'done' : 'unfinished',
      run_dir: r.dir,
    };
  });
}

/** Metric names in first-seen order (the recipes' eval.metrics order). */
export function metricNames(rows: readonly ReportRow[]): string[] {
  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.metrics)) if (!names.includes(k)) names.push(k);
  return names;
}

function overrideKeys(rows: readonly ReportRow[]): string[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.overrides)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

export function fmtMetric(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 10 ? v.toFixed(2) : v.toFixed(4);
}

function fmtInt(v: number | null): string {
  return v === null ? '–' : v.toLocaleString('en-US');
}

function fmtPct(v: number | null): string {
  return v === null ? '–' : `${v < 0.01 ? v.toPrecision(2) : v.toFixed(3)}%`;
}

export function fmtWall(s: number | null): string {
  if (s === null) return '–';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${s.toFixed(1)} s`;
}

interface Column {
  title: string;
  md: (r: ReportRow) => string;
  csv: (r: ReportRow) => string | number;
}

function columns(rows: readonly ReportRow[]): Column[] {
  const keys = overrideKeys(rows);
  const short = shortKeys(keys);
  const metrics = metricNames(rows);
  const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : v);
  return [
    { title: 'run', md: (r) => `\`${r.label}\``, csv: (r) => r.label },
    { title: 'method', md: (r) => r.method, csv: (r) => r.method },
    ...keys.map((k): Column => ({ title: short.get(k) ?? k, md: (r) => r.overrides[k] ?? '', csv: (r) => r.overrides[k] ?? '' })),
    ...metrics.map((m): Column => ({ title: m, md: (r) => fmtMetric(r.metrics[m]), csv: (r) => num(r.metrics[m]) })),
    { title: 'trainable params', md: (r) => fmtInt(r.trainable_params), csv: (r) => num(r.trainable_params) },
    { title: 'stored params', md: (r) => fmtInt(r.stored_params), csv: (r) => num(r.stored_params) },
    { title: '% trainable', md: (r) => fmtPct(r.trainable_percent), csv: (r) => num(r.trainable_percent) },
    { title: '% stored', md: (r) => fmtPct(r.stored_percent), csv: (r) => num(r.stored_percent) },
    { title: 'steps', md: (r) => fmtInt(r.steps), csv: (r) => num(r.steps) },
    { title: 'wall time', md: (r) => fmtWall(r.wall_time_s), csv: (r) => num(r.wall_time_s) },
    { title: 'backend', md: (r) => r.backend ?? '–', csv: (r) => r.backend ?? '' },
    { title: 'status', md: (r) => r.status, csv: (r) => r.status },
  ];
}

export function markdownTable(rows: readonly ReportRow[]): string {
  const cols = columns(rows);
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(cols.map((c) => c.title)), line(cols.map(() => '---')), ...rows.map((r) => line(cols.map((c) => c.md(r))))].join('\n') + '\n';
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvTable(rows: readonly ReportRow[]): string {
  const cols = columns(rows);
  const csvCols = [...cols, { title: 'run_dir', md: () => '', csv: (r: ReportRow) => r.run_dir }];
  const head = csvCols.map((c) => c.title.replace(/ /g, '_').replace('%', 'percent'));
  return [head.join(','), ...rows.map((r) => csvCols.map((c) => csvCell(c.csv(r))).join(','))].join('\n') + '\n';
}
