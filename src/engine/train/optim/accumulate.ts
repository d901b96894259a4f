// Gradient accumulation: gradient maps of several micro-batches summed as they arrive (each map is
// disposed once added), handed over as their sum or their (weighted) mean.
import * as tf from '@tensorflow/tfjs-core';

export class GradAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private total = 0;
  private added = 0;

  /** Micro-batches added since the last take(). */
  get count(): number {
    return this.added;
  }

  /**
   * Adds one micro-batch's gradients with a weight (its share of the batch, e.g. its example or
   * token count; default 1). Takes ownership: the given tensors are disposed. A name missing from
   * one micro-batch counts as a zero gradient there.
   */
  add(grads: Map<string, tf.Tensor>, weight = 1): void {
    if (!Number.isFinite(weight) || weight <= 0) throw new Error(`gradient weight must be finite and > 0 (got ${weight})`);
    for (const [name, g] of grads) {
      const prev = this.sums.get(name);
      const next = tf.tidy(() => {
        const w = weight === 1 ? g : tf.mul(g, weight);
        // clone: keep a tensor of our own even when it is the given one.
        return prev === undefined ? tf.clone(w) : tf.add(prev, w);
      });
      prev?.dispose();
      g.dispose();
      this.sums.set(name, next);
    }
    this.total += weight;
    this.added += 1;
  }

  /**
   * Hands over the accumulated gradients and starts afresh: `mean` divides by the sum of the
   * weights (the mean over micro-batches when all weights are 1), `sum` does not. The caller owns
   * the result. Empty if nothing was added.
   */
  take(reduce: 'mean' | 'sum' = 'mean'): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.sums) {
      if (reduce === 'sum' || this.total === 1) out.set(name, s);
      else {
        out.set(name, tf.div(s, this.total));
        s.dispose();
      }
    }
    this.sums = new Map();
    this.total = 0;
    this.added = 0;
    return out;
  }

  /** Frees anything accumulated and not taken. */
  dispose(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums = new Map();
    this.total = 0;
    this.added = 0;
  }
}
