// The n best finished hypotheses of one input in beam search, with transformers' scoring and
// stopping rules (BeamHypotheses, transformers ≥ 4.36): a hypothesis of `length` generated tokens
// (its eos counted) scores sum_logprobs / length ** length_penalty; the list keeps the
// `size` best.

export interface Hypothesis {
  /** Generated tokens, without the eos that finished it. */
  tokens: number[];
  score: number;
  /** Ended with eos (false: stopped at max_new_tokens). */
  finished: boolean;
}

export class BeamHypotheses {
  readonly items: Hypothesis[] = [];
  private worst = 1e9;

  constructor(
    readonly size: number,
    readonly lengthPenalty: number,
    readonly earlyStopping: boolean | 'never',
    /** max_new_tokens: the longest a hypothesis can get ('never'). */
    readonly maxLength: number,
  ) {}

  add(tokens: number[], sumLogprobs: number, length: number, finished: boolean): void {
    const score = sumLogprobs / length ** this.lengthPenalty;
    if (this.items.length >= this.size && score <= this.worst) return;
    this.items.push({ tokens, score, finished });
    if (this.items.length > this.size) {
      let low = 0;
      for (let i = 1; i < this.items.length; i++) if (this.items[i].score < this.items[low].score) low = i;
      this.items.splice(low, 1);
      this.worst = Math.min(...this.items.map((h) => h.score));
    } else {
      this.worst = Math.min(score, this.worst);
    }
  }

  /**
   * Whether no running beam can still improve the list. `bestSum`: the best running sum of
   * log-probabilities; `length`: the generated length it was computed at.
   */
  isDone(bestSum: number, length: number): boolean {
    if (this.items.length < this.size) return false;
    if (this.earlyStopping === true) return true;
    const denominator = this.earlyStopping === 'never' && this.lengthPenalty > 0 ? this.maxLength : length;
    return this.worst >= bestSum / denominator ** this.lengthPenalty;
  }

  /** The best `n`, best first. */
  best(n: number): Hypothesis[] {
    return [...this.items].sort((a, b) => b.score - a.score).slice(0, n);
  }
}
