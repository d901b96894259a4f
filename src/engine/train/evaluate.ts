// Evaluation: the task loss (and perplexity) over a split, without dropout, plus the task's
// metrics from its predictions.
import * as tf from '@tensorflow/tfjs-core';
import type { Session } from '../session.js';
import type { Batch } from '../data/batches.js';
import { batchInputs } from './task-loss.js';
import { causalLmNll, crossEntropy } from './losses.js';

export interface EvalResult {
  loss: number;
  perplexity?: number;
  metrics: Record<string, number>;
  examples: number;
}

export function evaluate(s: Session, batches: Iterable<Batch>): EvalResult {
  const ctx = s.peft.context({ training: false });
  let nllSum = 0;
  let count = 0;
  let examples = 0;
  let correct = 0;
  for (const b of batches) {
    examples += b.size;
    tf.tidy(() => {
      const out = s.model.forward(batchInputs(b), ctx);
      if (s.plan.task.type === 'causal-lm') {
        const prepended = out.logits.shape[1]! - b.seqLen;
        const ids = Int32Array.from(b.inputIds, (id, i) => (b.attentionMask[i] > 0 ? id : -100));
        let labels: tf.Tensor2D = tf.tensor2d(ids, [b.size, b.seqLen], 'int32');
        if (prepended) labels = tf.concat([tf.fill([b.size, prepended], -100, 'int32'), labels], 1) as tf.Tensor2D;
        const { sum, count: c } = causalLmNll(out.logits as tf.Tensor3D, labels);
        nllSum += sum.dataSync()[0];
        count += c.dataSync()[0];
      } else if (b.labels) {
        const labels = tf.tensor1d(Int32Array.from(b.labels), 'int32');
        nllSum += crossEntropy(out.logits as tf.Tensor2D, labels).dataSync()[0] * b.size;
        count += b.size;
        const pred = tf.argMax(out.logits, -1).dataSync();
        for (let i = 0; i < b.size; i++) if (pred[i] === b.labels[i]) correct++;
      }
    });
  }
  const loss = count > 0 ? nllSum / count : NaN;
  const metrics: Record<string, number> = { loss };
  let perplexity: number | undefined;
  if (s.plan.task.type === 'causal-lm') {
    perplexity = Math.exp(loss);
    metrics.perplexity = perplexity;
  } else if (examples > 0) {
    metrics.accuracy = correct / examples;
  }
  return { loss, perplexity, metrics, examples };
}
