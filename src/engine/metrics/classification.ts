// Accuracy and F1 with scikit-learn's semantics (accuracy_score, f1_score): F1 of a label is
// 2·TP / (2·TP + FP + FN), 0 when that is 0/0 (zero_division=0); 'binary' scores pos_label only,
// 'macro' is the unweighted mean over the labels present in either list (sorted), 'micro' pools
// the counts. Labels may be numbers or strings.

export type Label = number | string;

function checkLengths(name: string, yTrue: readonly unknown[], yPred: readonly unknown[]): void {
  if (yTrue.length !== yPred.length) throw new Error(`${name}: ${yTrue.length} references but ${yPred.length} predictions`);
}

/** Fraction of exact matches (sklearn accuracy_score; 0 for empty input). */
export function accuracy(yTrue: readonly Label[], yPred: readonly Label[]): number {
  checkLengths('accuracy', yTrue, yPred);
  if (yTrue.length === 0) return 0;
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/** The labels present in either list, sorted as numpy's unique sorts them. */
export function presentLabels(yTrue: readonly Label[], yPred: readonly Label[]): Label[] {
  const set = new Set<Label>([...yTrue, ...yPred]);
  return [...set].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

export interface LabelCounts {
  tp: number;
  fp: number;
  fn: number;
  support: number;
}

export function countsFor(yTrue: readonly Label[], yPred: readonly Label[], label: Label): LabelCounts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === label;
    const p = yPred[i] === label;
    if (t && p) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return { tp, fp, fn, support: tp + fn };
}

function f1Of({ tp, fp, fn }: LabelCounts, zeroDivision: number): number {
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? zeroDivision : (2 * tp) / denom;
}

export interface F1Options {
  average?: 'binary' | 'macro' | 'micro' | 'weighted';
  /** For 'binary' (default 1). */
  posLabel?: Label;
  /** Labels to average over (default: those present in either list). */
  labels?: readonly Label[];
  /** Value for 0/0 (default 0, sklearn's zero_division=0). */
  zeroDivision?: number;
}

/** sklearn f1_score. */
export function f1Score(yTrue: readonly Label[], yPred: readonly Label[], options: F1Options = {}): number {
  checkLengths('f1', yTrue, yPred);
  const average = options.average ?? 'binary';
  const zero = options.zeroDivision ?? 0;
  if (average === 'binary') {
    const present = presentLabels(yTrue, yPred);
    const pos = options.posLabel ?? 1;
    if (present.length > 2) throw new Error(`f1: average 'binary' needs at most 2 labels, got ${present.length} (use 'macro')`);
    if (present.length === 2 && !present.includes(pos)) throw new Error(`f1: pos_label ${String(pos)} is not one of the labels ${present.join(', ')}`);
    return f1Of(countsFor(yTrue, yPred, pos), zero);
  }
  const labels = options.labels ?? presentLabels(yTrue, yPred);
  if (labels.length === 0) return zero;
  const per = labels.map((l) => countsFor(yTrue, yPred, l));
  if (average === 'micro') {
    const sum = per.reduce((a, c) => ({ tp: a.tp + c.tp, fp: a.fp + c.fp, fn: a.fn + c.fn, support: a.support + c.support }), { tp: 0, fp: 0, fn: 0, support: 0 });
    return f1Of(sum, zero);
  }
  const scores = per.map((c) => f1Of(c, zero));
  if (average === 'weighted') {
    const support = per.reduce((a, c) => a + c.support, 0);
    return support === 0 ? zero : scores.reduce((a, s, i) => a + s * (per[i] as LabelCounts).support, 0) / support;
  }
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}
