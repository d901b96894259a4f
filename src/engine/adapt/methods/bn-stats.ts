// Test-time batch statistics (Schneider et al. 2020, Improving robustness against common
// corruptions by covariate shift adaptation; Nado et al. 2020, prediction-time batch
// normalization): every batch norm normalises with the test data's own statistics instead of the
// source's — online, each batch with its own; offline, with statistics gathered over the whole
// test set first (each layer's from inputs normalised by the layers before it, in one pass:
// torch's cumulative re-estimation), then every batch predicted with those.
import { forwardBatch, normLayers, saveRunningStats, setNormStats, softmaxRows } from '../forward.js';
import type { TtaMethod } from '../types.js';
import { PeftError } from '../../../errors.js';

export function requireBatchNorm(ctx: Parameters<TtaMethod['start']>[0], method: string): void {
  if (normLayers(ctx).length === 0) {
    throw new PeftError('RECIPE', `${method} adapts batch-norm statistics, and this ${ctx.model.family} backbone has no batch norm`, {
      hint: 'use it on a convolutional backbone (ResNet, MobileNet); lame and tent (on LayerNorm) work on transformers',
    });
  }
}

export const bnStatsMethod: TtaMethod = {
  name: 'bn-stats',
  title: 'test-time batch statistics (prediction-time batch norm)',
  paper: 'Schneider et al. 2020, Improving robustness against common corruptions by covariate shift adaptation; Nado et al. 2020, Evaluating prediction-time batch normalization for robustness under covariate shift',
  modes: ['online', 'offline'],
  async start(ctx) {
    requireBatchNorm(ctx, 'bn-stats');
    const restoreStats = saveRunningStats(ctx);
    const restoreMode = setNormStats(ctx, ctx.mode === 'online' ? 'batch' : 'running');
    return {
      prepare(batches) {
        const bns = normLayers(ctx);
        for (const bn of bns) bn.startCollecting();
        for (const b of batches) forwardBatch(ctx, b);
        for (const bn of bns) bn.finishCollecting();
      },
      predict: (b) => softmaxRows(forwardBatch(ctx, b).logits, ctx.classes),
      restore() {
        restoreMode();
        restoreStats();
      },
    };
  },
};
