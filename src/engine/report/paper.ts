// A reproduction's runs against the paper: the paper's table next to ours (full scale), and each
// finding tested per task on the mean over seeds (small scale), with the figure of each task's
// metric against the stored parameters (the paper's budget).
import { basename, join } from 'node:path';
import type { PaperManifest } from '../../plan/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { keptMetrics, type RunRecord } from './collect.js';
import { writeFigure } from './render.js';
import { fmtMetric, reportRows } from './table.js';

export interface MethodResult {
  task: string;
  method: string;
  metric: string;
  /** Per seed, in seed order. */
  values: number[];
  mean: number;
  stored_params: number | null;
  stored_percent: number | null;
  wall_time_s: number;
}

export interface FindingResult {
  finding: string;
  task: string;
  better: string;
  worse: string;
  betterMean: number;
  worseMean: number;
  /** Seeds on which `better` beat `worse`, of those both finished. */
  seedsHolding: number;
  seeds: number;
  holds: boolean;
  paper: string;
}

export interface PaperComparison {
  methods: MethodResult[];
  findings: FindingResult[];
  /** Full scale: the paper's value and ours per row (ours null when the row did not run). */
  table: { recipe: string; table: string; params: string; metric: string; paper: number; ours: number | null }[];
  markdown: string;
  figures: Record<string, { svg: string; png: string }>;
}

const stem = (r: RunRecord) => basename(r.plan.recipePath ?? r.plan.name).replace(/\.ya?ml$/i, '');

/** Per task × method: the metric of each seed and their mean (small scale). */
export function methodResults(runs: readonly RunRecord[], m: PaperManifest): MethodResult[] {
  const small = m.scales.small;
  if (!small) return [];
  const rows = reportRows(runs);
  const out: MethodResult[] = [];
  for (const [task, t] of Object.entries(small.tasks)) {
    for (const method of small.methods) {
      const mine = runs.map((r, i) => ({ r, row: rows[i]! })).filter(({ r }) => r.summary && stem(r) === `${task}-${method}`).sort((a, b) => a.r.plan.seed - b.r.plan.seed);
      const values = mine.map(({ r }) => keptMetrics(r)[t.metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (values.length === 0) continue;
      out.push({
        task, method, metric: t.metric, values, mean: values.reduce((a, b) => a + b, 0) / values.length,
        stored_params: mine[0]!.row.stored_params, stored_percent: mine[0]!.row.stored_percent,
        wall_time_s: mine.reduce((a, { r }) => a + (r.summary?.wall_time_s ?? 0), 0),
      });
    }
  }
  return out;
}

export function testFindings(results: readonly MethodResult[], m: PaperManifest): FindingResult[] {
  const small = m.scales.small;
  if (!small) return [];
  const out: FindingResult[] = [];
  for (const f of m.findings) {
    for (const [task, t] of Object.entries(small.tasks)) {
      const b = results.find((r) => r.task === task && r.method === f.better);
      const w = results.find((r) => r.task === task && r.method === f.worse);
      if (!b || !w) continue;
      const beats = (x: number, y: number) => (t.mode === 'max' ? x > y : x < y);
      const n = Math.min(b.values.length, w.values.length);
      let holding = 0;
      for (let i = 0; i < n; i++) if (beats(b.values[i]!, w.values[i]!)) holding++;
      out.push({ finding: f.finding, task, better: f.better, worse: f.worse, betterMean: b.mean, worseMean: w.mean, seedsHolding: holding, seeds: n, holds: beats(b.mean, w.mean), paper: f.paper });
    }
  }
  return out;
}

function figureSpec(results: readonly MethodResult[], task: string, title: string, metric: string): Record<string, unknown> {
  const values = results.filter((r) => r.task === task).map((r) => ({ method: r.method, percent: r.stored_percent, value: r.mean }));
  const x = { field: 'percent', type: 'quantitative', title: '% of the backbone\'s parameters stored (He et al.\'s budget)', scale: { zero: false, padding: 12 } };
  const y = { field: 'value', type: 'quantitative', title: `${metric}, mean over seeds (${metric === 'perplexity' || metric === 'loss' ? 'lower' : 'higher'} is better)`, scale: { zero: false, padding: 12 } };
  return {
    title, width: 520, height: 320, data: { values },
    layer: [
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { x, y, color: { field: 'method', type: 'nominal', title: 'method' }, shape: { field: 'method', type: 'nominal' } } },
      { mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 9, color: '#555' }, encoding: { x, y, text: { field: 'method' } } },
    ],
  };
}

/** The comparison's Markdown (and, with `out`, its figures). */
export async function comparePaper(runs: readonly RunRecord[], m: PaperManifest, scale: 'small' | 'full', out?: string): Promise<PaperComparison> {
  const figures: PaperComparison['figures'] = {};
  if (scale === 'full') {
    const table = m.table.map((row) => {
      const r = runs.find((x) => x.summary && stem(x) === row.recipe.replace(/\.ya?ml$/, ''));
      const v = r ? keptMetrics(r)[row.metric] : undefined;
      return { recipe: row.recipe, table: row.table, params: row.params, metric: row.metric, paper: row.paper, ours: v === undefined ? null : v * (row.scale ?? 1) };
    });
    const md = ['| recipe | table | % params | metric | paper | ours |', '| --- | --- | --- | --- | --- | --- |',
      ...table.map((t) => `| \`${t.recipe}\` | ${t.table} | ${t.params} | ${t.metric} | ${t.paper} | ${t.ours === null ? '–' : t.ours.toFixed(2)} |`)].join('\n') + '\n';
    if (out) writeFileAtomic(join(out, 'paper-vs-ours.md'), md);
    return { methods: [], findings: [], table, markdown: md, figures };
  }
  const methods = methodResults(runs, m);
  const findings = testFindings(methods, m);
  const small = m.scales.small!;
  const lines: string[] = [];
  lines.push('| finding | task | better (paper) | ours | worse (paper) | ours | holds here | seeds | the paper |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const f of findings) {
    lines.push(`| ${f.finding} | ${f.task} | \`${f.better}\` | ${fmtMetric(f.betterMean)} | \`${f.worse}\` | ${fmtMetric(f.worseMean)} | ${f.holds ? '**yes**' : 'no'} | ${f.seedsHolding}/${f.seeds} | ${f.paper} |`);
  }
  lines.push('', '| task | method | metric | per seed | mean | stored params | % stored | wall time (all seeds) |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of methods) {
    lines.push(`| ${r.task} | \`${r.method}\` | ${r.metric} | ${r.values.map(fmtMetric).join(', ')} | ${fmtMetric(r.mean)} | ${r.stored_params?.toLocaleString('en-US') ?? '–'} | ${r.stored_percent?.toFixed(3) ?? '–'}% | ${Math.round(r.wall_time_s)} s |`);
  }
  if (out) {
    for (const [task, t] of Object.entries(small.tasks)) {
      if (methods.some((r) => r.task === task)) figures[`${task}-${t.metric}-vs-params`] = await writeFigure(figureSpec(methods, task, t.title, t.metric), join(out, `${task}-${t.metric}-vs-params`));
    }
    writeFileAtomic(join(out, 'findings.md'), lines.join('\n') + '\n');
    writeFileAtomic(join(out, 'findings.json'), JSON.stringify({ methods, findings }, null, 2) + '\n');
  }
  return { methods, findings, table: [], markdown: lines.join('\n') + '\n', figures };
}
