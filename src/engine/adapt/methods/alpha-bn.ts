// α-BN (You et al. 2021, Test-time Batch Statistics Calibration for Covariate Shift): each batch
// norm normalises with a mix of the source and the test batch's statistics,
//   μ = α·μ_source + (1 − α)·μ_batch,   σ² = α·σ²_source + (1 − α)·σ²_batch,
// keeping part of the source statistics so that the discriminative structure the affine terms
// were trained on survives. Online only: the paper calibrates each test batch. α defaults to 0.9
// here (--alpha); α = 0 is test-time batch statistics, α = 1 the source model.
import { forwardBatch, setNormStats, softmaxRows } from '../forward.js';
import type { TtaMethod } from '../types.js';
import { requireBatchNorm } from './bn-stats.js';
import { PeftError } from '../../../errors.js';

export const alphaBnMethod: TtaMethod = {
  name: 'alpha-bn',
  title: 'α-BN: source and test-batch statistics mixed',
  paper: 'You et al. 2021, Test-time Batch Statistics Calibration for Covariate Shift',
  modes: ['online'],
  onlineOnly: 'α-BN calibrates the statistics of each test batch',
  async start(ctx) {
    requireBatchNorm(ctx, 'alpha-bn');
    const alpha = ctx.settings.alpha ?? 0.9;
    if (!(alpha >= 0 && alpha <= 1)) throw new PeftError('USAGE', `--alpha must be between 0 and 1 (got ${alpha})`);
    const restore = setNormStats(ctx, { alpha });
    return {
      predict: (b) => softmaxRows(forwardBatch(ctx, b).logits, ctx.classes),
      restore,
    };
  },
};
