// Raw logits of a batch, per example: [C] for sequence-level tasks, [T, V] (the example's own
// positions) for token-level ones — what `peft predict --logits` writes, for parity checks
// against another implementation.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches.js';
import { batchInputs, lastPositions } from '../train/task-loss.js';
import type { Predictor } from './predict.js';

export type RowLogits = number[] | number[][];

/** The forward context of a batch: inference, with its task ids when it has them. */
export function inferenceContext(p: Predictor, b: Batch) {
  return p.peft.context({ training: false, taskIds: b.taskIds ? Array.from(b.taskIds) : null });
}

/** Where example i's own positions are in the batch (token-level tasks): from `start`, `length` of them. */
export interface Span {
  start: number;
  length: number;
}

/** Each example's logits (token-level tasks: the positions of its span). */
export function batchLogits(p: Predictor, b: Batch, spans: readonly Span[]): RowLogits[] {
  return tf.tidy(() => {
    const out = p.model.forward(batchInputs(b), inferenceContext(p, b));
    if (out.logits.rank === 2) {
      const [B, C] = out.logits.shape as [number, number];
      const x = out.logits.dataSync();
      return Array.from({ length: B }, (_, i) => Array.from(x.subarray(i * C, (i + 1) * C)));
    }
    // token-level: drop positions a prompt prepended, keep each example's own
    const T = b.targetLen ?? b.seqLen;
    const logits = lastPositions(out.logits, T);
    const [B, , V] = logits.shape;
    const x = logits.dataSync();
    return Array.from({ length: B }, (_, i) => Array.from({ length: spans[i].length }, (_, k) => {
      const t = spans[i].start + k;
      return Array.from(x.subarray((i * T + t) * V, (i * T + t + 1) * V));
    }));
  });
}
