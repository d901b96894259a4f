// The report's figures as Vega-Lite specs: a metric against the % of parameters trained (the
// unified-view paper's Figure 1 / 5 form), training-loss curves and evaluation curves.
import type { RunRecord } from './collect.js';
import { numericFields } from './collect.js';
import type { ReportRow } from './table.js';
import type { VegaLiteSpec } from './render.js';

const WIDTH = 520;
const HEIGHT = 320;

function direction(metric: string): 'lower' | 'higher' {
  return metric === 'loss' || metric === 'perplexity' ? 'lower' : 'higher';
}

/** One point per finished run: x = % trainable parameters (log scale when they span 10×), y = metric. */
export function metricVsParamsSpec(rows: readonly ReportRow[], metric: string, title?: string): VegaLiteSpec {
  const values = rows
    .filter((r) => r.status === 'done' && r.trainable_percent !== null && Number.isFinite(r.metrics[metric] ?? NaN))
    .map((r) => ({ run: r.label, method: r.method, percent: r.trainable_percent, value: r.metrics[metric], stored: r.stored_percent }));
  const xs = values.map((v) => v.percent as number).filter((x) => x > 0);
  const log = xs.length > 1 && Math.max(...xs) / Math.min(...xs) >= 10;
  const x = { field: 'percent', type: 'quantitative', title: '% of the backbone\'s parameters trained', scale: log ? { type: 'log' } : { zero: false } };
  const y = { field: 'value', type: 'quantitative', title: `${metric} (${direction(metric)} is better)`, scale: { zero: false } };
  return {
    title: title ?? `${metric} against parameters trained`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      { mark: { type: 'point', filled: true, size: 70 }, encoding: { x, y, color: { field: 'method', type: 'nominal', title: 'method' }, tooltip: [{ field: 'run' }, { field: 'value' }, { field: 'percent' }] } },
      { mark: { type: 'text', align: 'left', dx: 7, dy: -6, fontSize: 9, color: '#555' }, encoding: { x, y, text: { field: 'run' } } },
    ],
  };
}

/** Curves of one quantity against the step, one line per run. */
function curvesSpec(values: { run: string; step: number; value: number }[], yTitle: string, title: string, logY = false): VegaLiteSpec {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: values.length < 200, strokeWidth: 1.6 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: logY ? { type: 'log' } : { zero: false } },
      color: { field: 'run', type: 'nominal', title: 'run' },
    },
  };
}

/** Logged training loss of every run. */
export function trainLossSpec(runs: readonly RunRecord[], title = 'training loss'): VegaLiteSpec {
  const values = runs.flatMap((r) => r.metrics
    .filter((m) => m.type === 'train' && typeof m.loss === 'number' && typeof m.step === 'number')
    .map((m) => ({ run: r.label, step: m.step as number, value: m.loss as number })));
  return curvesSpec(values, 'training loss (mean over the logging window)', title);
}

/** A validation metric over training (the evaluation before training at step 0 included). */
export function evalCurveSpec(runs: readonly RunRecord[], metric: string): VegaLiteSpec {
  const values = runs.flatMap((r) => r.metrics
    .filter((m) => m.type === 'eval' && m.phase !== 'after' && typeof m.step === 'number')
    .map((m) => ({ run: r.label, step: m.step as number, value: numericFields(m)[metric] }))
    .filter((v) => Number.isFinite(v.value)));
  return curvesSpec(values as { run: string; step: number; value: number }[], `validation ${metric}`, `validation ${metric} during training`, metric === 'perplexity');
}

/** One run's loss figure: training loss, and validation loss when it evaluated. */
export function runLossSpec(run: RunRecord): VegaLiteSpec {
  const train = run.metrics
    .filter((m) => m.type === 'train' && typeof m.loss === 'number')
    .map((m) => ({ series: 'training', step: m.step as number, value: m.loss as number }));
  const evals = run.metrics
    .filter((m) => m.type === 'eval' && m.phase !== 'after' && typeof m.loss === 'number')
    .map((m) => ({ series: 'validation', step: m.step as number, value: m.loss as number }));
  return {
    title: `${run.plan.name}: loss`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: [...train, ...evals] },
    mark: { type: 'line', point: true, strokeWidth: 1.6 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Whether any run logged a point for this spec's data (an empty figure is not drawn). */
export function hasData(spec: VegaLiteSpec): boolean {
  const data = spec.data as { values?: unknown[] } | undefined;
  return (data?.values?.length ?? 0) > 0;
}
