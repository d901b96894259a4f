// Loss and perplexity as a streaming accumulator: add the summed negative log-likelihood (nats)
// of each batch with its token count; loss is the mean NLL per token and perplexity exp(loss),
// so the result does not depend on how the tokens were batched. Compensated (Neumaier)
// summation keeps the mean exact enough over millions of tokens.

export class LossAccumulator {
  private sum = 0;
  private compensation = 0;
  private n = 0;

  /** Adds `nllSum` nats over `tokens` tokens (default 1: one per-token NLL). */
  add(nllSum: number, tokens = 1): void {
    if (!Number.isFinite(nllSum)) throw new Error(`loss: non-finite NLL ${nllSum}`);
    if (!(tokens >= 0)) throw new Error(`loss: token count must be ≥ 0 (got ${tokens})`);
    const t = this.sum + nllSum;
    this.compensation += Math.abs(this.sum) >= Math.abs(nllSum) ? this.sum - t + nllSum : nllSum - t + this.sum;
    this.sum = t;
    this.n += tokens;
  }

  /** Adds a per-token NLL each. */
  addAll(nlls: Iterable<number>): void {
    for (const x of nlls) this.add(x, 1);
  }

  get tokens(): number {
    return this.n;
  }

  /** Mean NLL per token (NaN before anything was added). */
  get loss(): number {
    return this.n === 0 ? NaN : (this.sum + this.compensation) / this.n;
  }

  get perplexity(): number {
    return Math.exp(this.loss);
  }

  reset(): void {
    this.sum = 0;
    this.compensation = 0;
    this.n = 0;
  }
}
