// Corpus-level BLEU as sacreBLEU computes it with its defaults (corpus_bleu / BLEU()):
// 13a tokenization (mteval-v13a), mixed case, exponential smoothing ('exp', NIST's: each order
// with no match gets 1 / (2^k · total)), max n-gram order 4, no effective order, the closest
// reference length (the shorter one on ties) per segment. Returns what sacreBLEU prints:
// score (0–100), counts, totals, precisions (0–100), bp, sys_len, ref_len.

export interface BleuScore {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
}

export type SmoothMethod = 'exp' | 'floor' | 'add-k' | 'none';

export interface BleuOptions {
  lowercase?: boolean;
  /** '13a' (default) or 'none' (split on whitespace only). */
  tokenize?: '13a' | 'none';
  smoothMethod?: SmoothMethod;
  /** For 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  maxNgramOrder?: number;
  effectiveOrder?: boolean;
}

// mteval-v13a's language-dependent rules, as sacreBLEU's TokenizerRegexp applies them.
const RULES: readonly [RegExp, string][] = [
  [/([{-~[-` -&(-+:-@/])/g, ' $1 '], // punctuation and symbols
  [/([^0-9])([.,])/g, '$1 $2 '], // period and comma unless preceded by a digit
  [/([.,])([^0-9])/g, ' $1 $2'], // period and comma unless followed by a digit
  [/([0-9])(-)/g, '$1 $2 '], // dash after a digit
];

/** sacreBLEU's '13a' tokenizer. */
export function tokenize13a(line: string): string {
  let s = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ');
  if (s.includes('&')) s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  s = ` ${s} `;
  for (const [re, rep] of RULES) s = s.replace(re, rep);
  return s.trim().split(/\s+/).filter((t) => t !== '').join(' ');
}

function ngrams(line: string, maxOrder: number): { counts: Map<string, number>; length: number } {
  const tokens = line.split(/\s+/).filter((t) => t !== '');
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = `${n}\u0000${tokens.slice(i, i + n).join(' ')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return { counts, length: tokens.length };
}

function closestRefLength(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const r of refLens) {
    const d = Math.abs(hypLen - r);
    if (bestDiff === -1 || d < bestDiff || (d === bestDiff && r < best)) {
      bestDiff = d;
      best = r;
    }
  }
  return best;
}

/** BLEU from its sufficient statistics (sacreBLEU's BLEU.compute_bleu). */
export function computeBleu(correct: readonly number[], total: readonly number[], sysLen: number, refLen: number, options: BleuOptions = {}): BleuScore {
  const method = options.smoothMethod ?? 'exp';
  const order = options.maxNgramOrder ?? 4;
  const value = options.smoothValue ?? (method === 'floor' ? 0.1 : 1);
  const counts = [...correct];
  const totals = [...total];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(order).fill(0);
  if (!counts.some((c) => c > 0)) return { score: 0, counts, totals, precisions, bp, sysLen, refLen };
  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (method === 'add-k' && n > 1) {
      counts[n - 1] = (counts[n - 1] as number) + value;
      totals[n - 1] = (totals[n - 1] as number) + value;
    }
    const tot = totals[n - 1] as number;
    if (tot === 0) break;
    if (options.effectiveOrder) effOrder = n;
    const c = counts[n - 1] as number;
    if (c === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * tot);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * value) / tot;
      }
    } else {
      precisions[n - 1] = (100 * c) / tot;
    }
  }
  // sacreBLEU floors log(0) at -9999999999.
  const logSum = precisions.slice(0, effOrder).reduce((a, p) => a + (p === 0 ? -9999999999 : Math.log(p)), 0);
  return { score: bp * Math.exp(logSum / effOrder), counts, totals, precisions, bp, sysLen, refLen };
}

/**
 * Corpus BLEU. `references` are reference streams as in sacreBLEU: references[k][i] is the k-th
 * reference of segment i; a missing reference is null or ''.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly (string | null)[])[], options: BleuOptions = {}): BleuScore {
  const order = options.maxNgramOrder ?? 4;
  const prep = (s: string) => {
    const t = options.lowercase ? s.toLowerCase() : s;
    return options.tokenize === 'none' ? t.trimEnd() : tokenize13a(t.trimEnd());
  };
  for (const stream of references) {
    if (stream.length !== hypotheses.length) throw new Error(`bleu: ${hypotheses.length} hypotheses but a reference stream of ${stream.length}`);
  }
  const correct = new Array<number>(order).fill(0);
  const total = new Array<number>(order).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, i) => {
    const refs = references.map((s) => s[i]).filter((r): r is string => r !== null && r !== undefined && r !== '');
    if (refs.length === 0) throw new Error(`bleu: segment ${i} has no reference`);
    const refMax = new Map<string, number>();
    const refLens: number[] = [];
    for (const r of refs) {
      const { counts, length } = ngrams(prep(r), order);
      refLens.push(length);
      for (const [g, c] of counts) refMax.set(g, Math.max(refMax.get(g) ?? 0, c));
    }
    const h = ngrams(prep(hyp), order);
    sysLen += h.length;
    refLen += closestRefLength(h.length, refLens);
    for (const [g, c] of h.counts) {
      const n = Number(g.slice(0, g.indexOf('\u0000'))) - 1;
      total[n] = (total[n] as number) + c;
      correct[n] = (correct[n] as number) + Math.min(c, refMax.get(g) ?? 0);
    }
  });
  return computeBleu(correct, total, sysLen, refLen, options);
}

/** sacreBLEU's one-line format: `BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)`. */
export function formatBleu(s: BleuScore): string {
  const ratio = s.refLen ? s.sysLen / s.refLen : 0;
  return `BLEU = ${s.score.toFixed(2)} ${s.precisions.map((p) => p.toFixed(1)).join('/')} (BP = ${s.bp.toFixed(3)} ratio = ${ratio.toFixed(3)} hyp_len = ${s.sysLen} ref_len = ${s.refLen})`;
}
