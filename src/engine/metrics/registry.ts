// The metrics a recipe can name (`eval.metrics`), computed from a whole evaluation's predictions
// and references, with the metadata best-checkpoint selection and early stopping need.

import { corpusBleu, type BleuOptions } from './bleu.js';
import { accuracy, f1Score, presentLabels, type Label } from './classification.js';
import { pearson, spearman } from './correlation.js';
import { LossAccumulator } from './loss.js';
import { matthewsCorrcoef } from './mcc.js';
import { corpusRouge, type RougeOptions } from './rouge.js';

export interface MetricInfo {
  /** True when a larger value is better (accuracy), false when smaller is (loss). */
  higherIsBetter: boolean;
  /** The key of `computeMetric`'s result that stands for the metric (e.g. 'rougeL' for rouge). */
  primary: string;
  /** What predictions and references are. */
  inputs: 'labels' | 'numbers' | 'texts' | 'nll' | 'tasks';
  describe: string;
}

export const METRICS: Readonly<Record<string, MetricInfo>> = {
  accuracy: { higherIsBetter: true, primary: 'accuracy', inputs: 'labels', describe: 'fraction of exact matches' },
  f1: { higherIsBetter: true, primary: 'f1', inputs: 'labels', describe: 'F1 of label 1 for binary labels, macro F1 otherwise (sklearn, zero_division=0)' },
  f1_macro: { higherIsBetter: true, primary: 'f1_macro', inputs: 'labels', describe: 'unweighted mean F1 over the labels present (sklearn average=macro)' },
  f1_micro: { higherIsBetter: true, primary: 'f1_micro', inputs: 'labels', describe: 'F1 of pooled counts (sklearn average=micro)' },
  mcc: { higherIsBetter: true, primary: 'mcc', inputs: 'labels', describe: 'Matthews correlation (sklearn, binary and multiclass)' },
  pearson: { higherIsBetter: true, primary: 'pearson', inputs: 'numbers', describe: 'Pearson correlation (scipy pearsonr)' },
  spearman: { higherIsBetter: true, primary: 'spearman', inputs: 'numbers', describe: 'Spearman rank correlation, ties averaged (scipy spearmanr)' },
  loss: { higherIsBetter: false, primary: 'loss', inputs: 'nll', describe: 'mean negative log-likelihood per token' },
  perplexity: { higherIsBetter: false, primary: 'perplexity', inputs: 'nll', describe: 'exp of the mean token NLL' },
  rouge: { higherIsBetter: true, primary: 'rougeL', inputs: 'texts', describe: 'ROUGE-1/2/L/Lsum F-measure, stemmed (rouge-score)' },
  rouge1: { higherIsBetter: true, primary: 'rouge1', inputs: 'texts', describe: 'ROUGE-1 F-measure' },
  rouge2: { higherIsBetter: true, primary: 'rouge2', inputs: 'texts', describe: 'ROUGE-2 F-measure' },
  rougeL: { higherIsBetter: true, primary: 'rougeL', inputs: 'texts', describe: 'ROUGE-L (sentence-level LCS) F-measure' },
  rougeLsum: { higherIsBetter: true, primary: 'rougeLsum', inputs: 'texts', describe: 'ROUGE-Lsum (summary-level LCS over lines) F-measure' },
  bleu: { higherIsBetter: true, primary: 'bleu', inputs: 'texts', describe: 'corpus BLEU, sacreBLEU defaults (13a, exp smoothing), 0–100' },
  task_mean: { higherIsBetter: true, primary: 'task_mean', inputs: 'tasks', describe: 'several tasks: the mean over tasks of each task\'s first metric' },
};

export function metricInfo(name: string): MetricInfo {
  const info = METRICS[name];
  if (info === undefined) throw new Error(`unknown metric "${name}" (known: ${Object.keys(METRICS).join(', ')})`);
  return info;
}

/**
 * Whether `candidate` improves on `best` for a metric (or one of its result keys, like 'rouge2').
 * NaN (e.g. a correlation of constant predictions) never improves; anything beats a NaN best.
 */
export function isImprovement(name: string, candidate: number, best: number | null | undefined): boolean {
  if (Number.isNaN(candidate)) return false;
  if (best === null || best === undefined || Number.isNaN(best)) return true;
  return metricInfo(name).higherIsBetter ? candidate > best : candidate < best;
}

export interface MetricOptions {
  rouge?: RougeOptions;
  bleu?: BleuOptions;
  /** f1: the positive label for binary F1 (default 1). */
  posLabel?: Label;
}

type Refs = readonly unknown[];

function labels(name: string, xs: readonly unknown[]): Label[] {
  for (const x of xs) if (typeof x !== 'number' && typeof x !== 'string') throw new Error(`${name}: labels must be numbers or strings`);
  return xs as Label[];
}

function numbers(name: string, xs: readonly unknown[]): number[] {
  for (const x of xs) if (typeof x !== 'number') throw new Error(`${name}: values must be numbers`);
  return xs as number[];
}

function texts(name: string, xs: readonly unknown[]): string[] {
  for (const x of xs) if (typeof x !== 'string') throw new Error(`${name}: predictions must be strings`);
  return xs as string[];
}

/** References per segment (a string, or a list of strings) → sacreBLEU's reference streams. */
function referenceStreams(refs: Refs): (string | null)[][] {
  const lists = refs.map((r) => (typeof r === 'string' ? [r] : Array.isArray(r) ? (r as string[]) : []));
  const k = Math.max(1, ...lists.map((l) => l.length));
  return Array.from({ length: k }, (_, j) => lists.map((l) => l[j] ?? null));
}

/**
 * Computes a metric over a whole evaluation. Predictions and references by input kind:
 * labels (class ids or names), numbers (regression), texts (references: a string or a list of
 * strings per example), nll (predictions: summed NLL per example; references: its token count,
 * or empty for one token per prediction). Returns every value the metric has, keyed by name:
 * `{accuracy}`, `{rouge1, rouge2, rougeL, rougeLsum}`, `{bleu, bleu_bp, …}`.
 */
export function computeMetric(name: string, predictions: readonly unknown[], references: Refs, options: MetricOptions = {}): Record<string, number> {
  const info = metricInfo(name);
  if (info.inputs !== 'nll' && predictions.length !== references.length) {
    throw new Error(`${name}: ${predictions.length} predictions but ${references.length} references`);
  }
  switch (name) {
    case 'accuracy':
      return { accuracy: accuracy(labels(name, references), labels(name, predictions)) };
    case 'f1': {
      const yTrue = labels(name, references);
      const yPred = labels(name, predictions);
      const binary = presentLabels(yTrue, yPred).every((l) => l === 0 || l === 1);
      return { f1: f1Score(yTrue, yPred, binary ? { average: 'binary', posLabel: options.posLabel ?? 1 } : { average: 'macro' }) };
    }
    case 'f1_macro':
      return { f1_macro: f1Score(labels(name, references), labels(name, predictions), { average: 'macro' }) };
    case 'f1_micro':
      return { f1_micro: f1Score(labels(name, references), labels(name, predictions), { average: 'micro' }) };
    case 'mcc':
      return { mcc: matthewsCorrcoef(labels(name, references), labels(name, predictions)) };
    case 'pearson':
      return { pearson: pearson(numbers(name, predictions), numbers(name, references)) };
    case 'spearman':
      return { spearman: spearman(numbers(name, predictions), numbers(name, references)) };
    case 'loss':
    case 'perplexity': {
      const acc = new LossAccumulator();
      const nll = numbers(name, predictions);
      const counts = references.length === 0 ? null : numbers(name, references);
      if (counts !== null && counts.length !== nll.length) throw new Error(`${name}: ${nll.length} NLL sums but ${counts.length} token counts`);
      nll.forEach((x, i) => acc.add(x, counts === null ? 1 : (counts[i] as number)));
      return { loss: acc.loss, perplexity: acc.perplexity };
    }
    case 'rouge':
    case 'rouge1':
    case 'rouge2':
    case 'rougeL':
    case 'rougeLsum': {
      const all = corpusRouge(texts(name, predictions), references as (string | string[])[], options.rouge);
      return name === 'rouge' ? { ...all } : { [name]: all[name] };
    }
    case 'bleu': {
      const s = corpusBleu(texts(name, predictions), referenceStreams(references), options.bleu);
      const out: Record<string, number> = { bleu: s.score, bleu_bp: s.bp, bleu_sys_len: s.sysLen, bleu_ref_len: s.refLen };
      s.precisions.forEach((p, i) => (out[`bleu_precision_${i + 1}`] = p));
      return out;
    }
    default:
      throw new Error(`metric "${name}" has no implementation`);
  }
}
