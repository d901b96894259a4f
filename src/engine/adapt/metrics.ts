// Scores of a test-time adaptation pass when the test data has labels: accuracy and the mean
// negative log-likelihood of the true class.
export interface TtaScores {
  accuracy: number;
  nll: number;
}

export class ScoreTally {
  private n = 0;
  private correct = 0;
  private nll = 0;

  add(probs: Float32Array, K: number, labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i];
      let best = 0;
      for (let c = 1; c < K; c++) if (probs[i * K + c] > probs[i * K + best]) best = c;
      if (best === y) this.correct++;
      this.nll -= Math.log(Math.max(probs[i * K + y], 1e-12));
      this.n++;
    }
  }

  scores(): TtaScores | null {
    return this.n === 0 ? null : { accuracy: this.correct / this.n, nll: this.nll / this.n };
  }
}
