// Logits processors and warpers, on one row of scores (a copy in float64), in transformers'
// order: the rules that forbid tokens (no repeated n-gram, no eos before min_new_tokens) for every
// strategy, then for sampling the warpers temperature → top-k → top-p. A forbidden or cut token
// gets −∞.

/** What the rules of one row look at. */
export interface RowContext {
  /** The row's tokens so far: the prompt's real tokens (causal) or the decoder's (start token first), then the generated ones. */
  tokens: readonly number[];
  /** How many tokens were generated so far. */
  generated: number;
}

export interface ProcessorOptions {
  eos: readonly number[];
  minNewTokens: number;
  noRepeatNgramSize: number;
}

export interface WarpOptions {
  temperature: number;
  topK: number;
  topP: number;
}

/** Applies the forbidding rules in place. */
export function applyProcessors(scores: Float64Array, row: RowContext, o: ProcessorOptions): void {
  if (o.noRepeatNgramSize > 0) banRepeatedNgrams(scores, row.tokens, o.noRepeatNgramSize);
  if (row.generated < o.minNewTokens) for (const e of o.eos) if (e >= 0 && e < scores.length) scores[e] = -Infinity;
}

/**
 * transformers' NoRepeatNGramLogitsProcessor: every token that would complete an n-gram already in
 * `tokens` (its first n − 1 tokens equal to the last n − 1) is forbidden.
 */
export function banRepeatedNgrams(scores: Float64Array, tokens: readonly number[], n: number): void {
  const L = tokens.length;
  if (L + 1 < n) return;
  const start = L - (n - 1);
  for (let i = 0; i + n <= L; i++) {
    let same = true;
    for (let j = 0; j < n - 1 && same; j++) same = tokens[i + j] === tokens[start + j];
    if (same) scores[tokens[i + n - 1]] = -Infinity;
  }
}

/** Divides by the temperature, then keeps the top-k, then the top-p nucleus (in place). */
export function applyWarpers(scores: Float64Array, o: WarpOptions): void {
  if (o.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= o.temperature;
  if (o.topK > 0) topK(scores, o.topK);
  if (o.topP < 1) topP(scores, o.topP);
}

/** Keeps the scores ≥ the k-th largest (ties with it stay, as in transformers); the rest become −∞. */
export function topK(scores: Float64Array, k: number): void {
  if (k >= scores.length) return;
  const sorted = Float64Array.from(scores).sort();
  const threshold = sorted[sorted.length - k];
  for (let i = 0; i < scores.length; i++) if (scores[i] < threshold) scores[i] = -Infinity;
}

/**
 * Nucleus: in order of decreasing probability, a token is kept while the probability of the
 * tokens before it is below p (so the kept set is the smallest whose mass reaches p; the most
 * likely token always stays). transformers' TopPLogitsWarper, read from the other end.
 */
export function topP(scores: Float64Array, p: number): void {
  const order = Array.from(scores.keys()).filter((i) => scores[i] > -Infinity).sort((a, b) => scores[b] - scores[a] || a - b);
  if (order.length === 0) return;
  const probs = softmaxOf(order.map((i) => scores[i]));
  let before = 0;
  for (let r = 0; r < order.length; r++) {
    if (r > 0 && before >= p) scores[order[r]] = -Infinity;
    before += probs[r];
  }
}

/** Softmax of a list of finite scores (float64). */
function softmaxOf(x: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  const e = x.map((v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** log softmax of one row of logits, in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - max);
  const lz = max + Math.log(z);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lz;
  return out;
}

/** Index of the largest score (the first of ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}
