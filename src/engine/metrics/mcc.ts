// Matthews correlation coefficient, binary and multiclass, by scikit-learn's formula
// (matthews_corrcoef, Gorodkin's R_K): from the confusion matrix C with t = row sums (true
// counts), p = column sums (predicted counts), c = trace, s = total,
//   MCC = (c·s − t·p) / sqrt((s² − p·p)(s² − t·t)),   0 when the denominator is 0.

import type { Label } from './classification.js';

export function matthewsCorrcoef(yTrue: readonly Label[], yPred: readonly Label[]): number {
  if (yTrue.length !== yPred.length) throw new Error(`mcc: ${yTrue.length} references but ${yPred.length} predictions`);
  const index = new Map<Label, number>();
  for (const l of [...yTrue, ...yPred]) if (!index.has(l)) index.set(l, index.size);
  const k = index.size;
  const t = new Float64Array(k);
  const p = new Float64Array(k);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const a = index.get(yTrue[i] as Label) as number;
    const b = index.get(yPred[i] as Label) as number;
    t[a] = (t[a] as number) + 1;
    p[b] = (p[b] as number) + 1;
    if (a === b) correct++;
  }
  const s = yTrue.length;
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (let j = 0; j < k; j++) {
    tp += (t[j] as number) * (p[j] as number);
    pp += (p[j] as number) * (p[j] as number);
    tt += (t[j] as number) * (t[j] as number);
  }
  const covYtYp = correct * s - tp;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}
