// Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: the 2-norm of all gradients
// taken together; when it exceeds max_norm every gradient is scaled by max_norm / (norm + 1e-6).
// The pre-clip norm is returned for the log. A NaN or infinite norm is returned as it is, with the
// gradients left unscaled, so the loop can stop the run (see divergedError).
import * as tf from '@tensorflow/tfjs-core';
import { PeftError } from '../../../errors.js';
import { sumSquares } from '../../backend/fused/index.js';

/** The 2-norm of all gradients as one vector. Per-tensor sums of squares are float32; they are added in float64. */
export function globalGradNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const sums = sumSquares([...grads.values()]);
  const values = sums.dataSync();
  sums.dispose();
  let total = 0;
  for (const v of values) total += v;
  return Math.sqrt(total);
}

export interface ClipResult {
  /** The gradients to use: scaled copies when clipped, else the given tensors themselves. */
  grads: Map<string, tf.Tensor>;
  /** The norm before clipping (NaN or ±Infinity when some gradient is not finite). */
  norm: number;
  clipped: boolean;
}

/**
 * Clips `grads` to a global 2-norm of at most `maxNorm` (null: only measure). Takes ownership of
 * `grads`: when it clips, the given tensors are disposed and the result holds new ones; either way
 * the caller owns and disposes the tensors of the result.
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number | null): ClipResult {
  const norm = globalGradNorm(grads);
  if (maxNorm === null || !Number.isFinite(norm)) return { grads, norm, clipped: false };
  if (!(maxNorm > 0)) throw new PeftError('RECIPE', `max_grad_norm must be > 0 (got ${maxNorm})`, { where: 'training.max_grad_norm' });
  const scale = maxNorm / (norm + 1e-6);
  if (scale >= 1) return { grads, norm, clipped: false };
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) {
    out.set(name, tf.mul(g, scale));
    g.dispose();
  }
  return { grads: out, norm, clipped: true };
}

/** The error that stops a run whose gradient norm is not finite. */
export function divergedError(norm: number, step: number): PeftError {
  return new PeftError('DIVERGED', `gradient norm is ${norm} at step ${step}; training diverged`, {
    where: `step ${step}`,
    hint: 'lower the learning rate, set training.max_grad_norm, or add warmup',
  });
}
