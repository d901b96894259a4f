// One forward pass over a test batch for the adaptation methods: logits and the features the
// classifier reads, as plain arrays; and the batch-norm modes they switch between.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches.js';
import { batchInputs } from '../train/task-loss.js';
import { batchNorms, type BatchNorm, type NormStats } from '../nn/batch-norm.js';
import type { TtaContext, BatchOutputs } from './types.js';

export function forwardBatch(ctx: TtaContext, batch: Batch): BatchOutputs {
  let result: BatchOutputs = { logits: new Float32Array(0), features: null, dim: 0 };
  tf.tidy(() => {
    const out = ctx.model.forward(batchInputs(batch), ctx.peft.context({ training: false }));
    const features = out.pooled ?? null;
    result = {
      logits: Float32Array.from(out.logits.dataSync()),
      features: features ? Float32Array.from(features.dataSync()) : null,
      dim: features ? features.shape[1] : 0,
    };
  });
  return result;
}

/** Row-wise softmax of logits [B·K]. */
export function softmaxRows(logits: Float32Array, K: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / K; r++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[r * K + k]);
    let z = 0;
    for (let k = 0; k < K; k++) z += (out[r * K + k] = Math.exp(logits[r * K + k] - max));
    for (let k = 0; k < K; k++) out[r * K + k] /= z;
  }
  return out;
}

/** Sets every batch norm's statistics mode; returns how to put them back. */
export function setNormStats(ctx: TtaContext, stats: NormStats): () => void {
  const bns = batchNorms(ctx.model.root).map(([, bn]) => bn);
  const before = bns.map((bn) => bn.stats);
  for (const bn of bns) bn.stats = stats;
  return () => bns.forEach((bn, i) => (bn.stats = before[i]));
}

export function normLayers(ctx: TtaContext): BatchNorm[] {
  return batchNorms(ctx.model.root).map(([, bn]) => bn);
}

/** A copy of the running statistics, and how to put them back. */
export function saveRunningStats(ctx: TtaContext): () => void {
  const saved = normLayers(ctx).map((bn) => [bn, tf.clone(bn.runningMean.value), tf.clone(bn.runningVar.value)] as const);
  return () => {
    for (const [bn, m, v] of saved) {
      bn.runningMean.set(m);
      bn.runningVar.set(v);
    }
  };
}
