// Evaluation: the task loss over a split (no dropout, no label smoothing) and every metric the
// plan names, computed over the whole split by the metrics registry — accuracy / F1 / MCC on class
// ids (token-cls: on words, i.e. first sub-tokens), Pearson / Spearman on regression outputs,
// perplexity from the token NLL, ROUGE / BLEU on greedy decodings (seq2seq).
import type { Batch } from '../data/batches.js';
import { computeMetric, METRICS } from '../metrics/index.js';
import { PeftError } from '../../errors.js';
import { predictBatch, type Predictor, type Prediction } from './predict.js';

export interface EvalResult {
  loss: number;
  perplexity?: number;
  /** `loss` and every metric's values (a metric may give several: rouge1, rouge2, rougeL, …). */
  metrics: Record<string, number>;
  examples: number;
}

export interface EvalOptions {
  /** Metrics to compute (default: the plan's eval.metrics). */
  metrics?: readonly string[];
  /** Called after each batch with the examples done so far. */
  onBatch?(done: number): void;
}

/** Which predictions a metric reads. */
function predictedValue(p: Prediction): number | string | number[] | null {
  switch (p.kind) {
    case 'class':
      return p.id;
    case 'value':
      return p.value;
    case 'tags':
      return p.ids;
    case 'text':
      return p.text;
    default:
      return null;
  }
}

export function evaluate(p: Predictor, batches: Iterable<Batch>, opts: EvalOptions = {}): EvalResult {
  const names = opts.metrics ?? p.plan.eval.metrics;
  const wantsText = names.some((n) => METRICS[n]?.inputs === 'texts');
  if (wantsText && p.plan.task.type !== 'seq2seq') {
    throw new PeftError('RECIPE', `metrics ${names.filter((n) => METRICS[n]?.inputs === 'texts').join(', ')} need a seq2seq task`, { where: 'eval.metrics' });
  }
  let lossSum = 0;
  let lossCount = 0;
  let examples = 0;
  // per example, at its position in the split (batches may come in another order: Batcher.byLength)
  const scored: { pred: unknown; ref: unknown }[] = [];
  for (const b of batches) {
    const r = predictBatch(p, b, { loss: true, generate: wantsText, maxNewTokens: p.plan.data.maxLength });
    lossSum += r.lossSum;
    lossCount += r.lossCount;
    if (r.references) {
      r.predictions.forEach((x, i) => {
        scored[b.rows?.[i] ?? examples + i] = { pred: predictedValue(x), ref: r.references![i] };
      });
    }
    examples += b.size;
    opts.onBatch?.(examples);
  }
  const preds: unknown[] = [];
  const refs: unknown[] = [];
  for (const e of scored) {
    if (!e) continue;
    // token classification is scored per word
    if (Array.isArray(e.pred) && Array.isArray(e.ref)) {
      preds.push(...e.pred);
      refs.push(...e.ref);
    } else {
      preds.push(e.pred);
      refs.push(e.ref);
    }
  }
  const loss = lossCount > 0 ? lossSum / lossCount : NaN;
  const metrics: Record<string, number> = { loss };
  const lm = p.plan.task.type === 'causal-lm' || p.plan.task.type === 'seq2seq';
  let perplexity: number | undefined;
  if (lm || names.includes('perplexity')) {
    perplexity = Math.exp(loss);
    metrics.perplexity = perplexity;
  }
  for (const name of names) {
    const info = METRICS[name];
    if (!info) throw new PeftError('RECIPE', `unknown metric "${name}"`, { where: 'eval.metrics', hint: `known: ${Object.keys(METRICS).join(', ')}` });
    if (info.inputs === 'nll' || info.inputs === 'tasks') continue; // from the loss, or from several tasks' results
    if (refs.length === 0) continue;
    Object.assign(metrics, computeMetric(name, preds, refs));
  }
  return { loss, perplexity, metrics, examples };
}

/** The value that stands for a metric in a result (`rouge` → rougeL), or undefined. */
export function metricValue(r: EvalResult, name: string): number | undefined {
  const key = METRICS[name]?.primary ?? name;
  return r.metrics[key];
}
