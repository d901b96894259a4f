// ROUGE as Google's rouge-score package computes it (the reference implementation used by most
// summarization papers): tokens are the text lower-cased, every run of characters outside
// [a-z0-9] replaced by a space, split on whitespace, words longer than 3 letters optionally Porter
// stemmed. rouge1/rouge2: n-gram overlap; rougeL: sentence-level LCS; rougeLsum: summary-level
// LCS over newline-separated sentences (union LCS, no double counting, as ROUGE-1.5.5). Scores are
// in [0, 1]; a corpus score is the mean of the per-example F-measures.

import { porterStem } from './porter.js';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export type RougeType = 'rouge1' | 'rouge2' | 'rougeL' | 'rougeLsum';
export const ROUGE_TYPES: readonly RougeType[] = ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'];

export interface RougeOptions {
  /** Porter-stem words of more than 3 letters (rouge-score's use_stemmer). Default true. */
  useStemmer?: boolean;
}

/** rouge-score's default tokenizer. */
export function rougeTokenize(text: string, useStemmer: boolean): string[] {
  const words = text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/);
  const out: string[] = [];
  for (const w of words) {
    const t = useStemmer && w.length > 3 ? porterStem(w) : w;
    if (/^[a-z0-9]+$/.test(t)) out.push(t);
  }
  return out;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function score(hits: number, predicted: number, target: number): RougeScore {
  const precision = predicted > 0 ? hits / predicted : 0;
  const recall = target > 0 ? hits / target : 0;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** ROUGE-N between token lists. */
export function rougeN(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const t = ngramCounts(target, n);
  const p = ngramCounts(prediction, n);
  let hits = 0;
  for (const [g, c] of t) hits += Math.min(c, p.get(g) ?? 0);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return score(hits, Math.max(total(p), 1), Math.max(total(t), 1));
}

/** The LCS dynamic-programming table, (|a|+1) × (|b|+1), row-major. */
function lcsTable(a: readonly string[], b: readonly string[]): Uint32Array {
  const cols = b.length + 1;
  const t = new Uint32Array((a.length + 1) * cols);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      t[i * cols + j] = a[i - 1] === b[j - 1] ? (t[(i - 1) * cols + j - 1] as number) + 1 : Math.max(t[(i - 1) * cols + j] as number, t[i * cols + j - 1] as number);
    }
  }
  return t;
}

/** Indices into `ref` of one longest common subsequence (the one rouge-score's backtrack reads). */
function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const t = lcsTable(ref, can);
  const cols = can.length + 1;
  const out: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if ((t[i * cols + j - 1] as number) > (t[(i - 1) * cols + j] as number)) {
      j--;
    } else {
      i--;
    }
  }
  return out.reverse();
}

/** Sentence-level ROUGE-L between token lists. */
export function rougeL(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const t = lcsTable(target, prediction);
  const lcs = t[t.length - 1] as number;
  return score(lcs, prediction.length, target.length);
}

/** Summary-level ROUGE-L (rougeLsum) between lists of tokenized sentences. */
export function rougeLsum(target: readonly (readonly string[])[], prediction: readonly (readonly string[])[]): RougeScore {
  const m = target.reduce((a, s) => a + s.length, 0);
  const n = prediction.reduce((a, s) => a + s.length, 0);
  if (m === 0 || n === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const countsT = new Map<string, number>();
  const countsP = new Map<string, number>();
  for (const s of target) for (const w of s) countsT.set(w, (countsT.get(w) ?? 0) + 1);
  for (const s of prediction) for (const w of s) countsP.set(w, (countsP.get(w) ?? 0) + 1);
  let hits = 0;
  for (const ref of target) {
    const union = new Set<number>();
    for (const can of prediction) for (const i of lcsIndices(ref, can)) union.add(i);
    for (const i of [...union].sort((a, b) => a - b)) {
      const w = ref[i] as string;
      const ct = countsT.get(w) ?? 0;
      const cp = countsP.get(w) ?? 0;
      if (ct > 0 && cp > 0) {
        hits++;
        countsT.set(w, ct - 1);
        countsP.set(w, cp - 1);
      }
    }
  }
  return score(hits, n, m);
}

function sentences(text: string, useStemmer: boolean): string[][] {
  return text
    .split('\n')
    .filter((s) => s.length > 0)
    .map((s) => rougeTokenize(s, useStemmer));
}

/** All four ROUGE scores of one prediction against one target (rouge_scorer.RougeScorer.score). */
export function rougeScore(target: string, prediction: string, options: RougeOptions = {}): Record<RougeType, RougeScore> {
  const stem = options.useStemmer ?? true;
  const t = rougeTokenize(target, stem);
  const p = rougeTokenize(prediction, stem);
  return {
    rouge1: rougeN(t, p, 1),
    rouge2: rougeN(t, p, 2),
    rougeL: rougeL(t, p),
    rougeLsum: rougeLsum(sentences(target, stem), sentences(prediction, stem)),
  };
}

/**
 * Corpus ROUGE: the mean F-measure of each type over the examples. With several references for
 * an example, its score is the one of the reference with the best F-measure (score_multi).
 */
export function corpusRouge(predictions: readonly string[], references: readonly (string | readonly string[])[], options: RougeOptions = {}): Record<RougeType, number> {
  if (predictions.length !== references.length) throw new Error(`rouge: ${predictions.length} predictions but ${references.length} references`);
  const sums: Record<RougeType, number> = { rouge1: 0, rouge2: 0, rougeL: 0, rougeLsum: 0 };
  predictions.forEach((pred, i) => {
    const refs = references[i] as string | readonly string[];
    const list = typeof refs === 'string' ? [refs] : refs;
    const scores = list.map((r) => rougeScore(r, pred, options));
    for (const type of ROUGE_TYPES) sums[type] += Math.max(0, ...scores.map((s) => s[type].fmeasure));
  });
  const n = Math.max(predictions.length, 1);
  return { rouge1: sums.rouge1 / n, rouge2: sums.rouge2 / n, rougeL: sums.rougeL / n, rougeLsum: sums.rougeLsum / n };
}
