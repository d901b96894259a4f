// TENT (Wang et al. 2021, Tent: Fully Test-Time Adaptation by Entropy Minimization): the batch
// norms normalise with each test batch's statistics, and only their affine terms (γ, β) learn,
// by minimising the mean entropy of the predictions, H = −Σ p·log p. As the authors' code does:
// one Adam step per batch (lr 1e-3, their CIFAR setting; --lr, --steps), the batch predicted by
// the forward pass that computes the update (before it); offline, --steps passes over the whole
// test set first, then every batch predicted with the adapted terms. A backbone without batch
// norm adapts its LayerNorms' affine terms instead (said so; the statistics part does not apply).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../../nn/module.js';
import type { Batch } from '../../data/batches.js';
import { batchInputs } from '../../train/task-loss.js';
import { createOptimizer } from '../../train/optim/index.js';
import { normLayers, setNormStats, softmaxRows } from '../forward.js';
import type { TtaContext, TtaMethod } from '../types.js';
import { PeftError } from '../../../errors.js';

/** Mean entropy of softmax(logits) over the batch. */
export function meanEntropy(logits: tf.Tensor2D): tf.Scalar {
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1))) as tf.Scalar;
}

/** The normalisation affine terms TENT adapts: batch norms', else LayerNorms'. */
function affineTerms(ctx: TtaContext): Param[] {
  const bn = normLayers(ctx).flatMap((n) => [n.weight, n.bias].filter((p): p is Param => p !== null));
  if (bn.length > 0) return bn;
  const ln = ctx.model.root.namedParams().filter(([, p]) => p.tags.has('norm')).map(([, p]) => p);
  if (ln.length === 0) throw new PeftError('RECIPE', 'tent adapts normalisation layers, and this backbone has none with affine terms', { hint: 'use lame, which adapts outputs only' });
  ctx.note(`no batch norm in this ${ctx.model.family} backbone: tent adapts the ${ln.length / 2} LayerNorms' affine terms (no batch statistics)`);
  return ln;
}

export const tentMethod: TtaMethod = {
  name: 'tent',
  title: 'TENT: entropy minimisation of the normalisation affine terms',
  paper: 'Wang et al. 2021, Tent: Fully Test-Time Adaptation by Entropy Minimization',
  modes: ['online', 'offline'],
  async start(ctx) {
    const params = affineTerms(ctx);
    const saved = params.map((p) => tf.clone(p.value));
    const wasTrainable = params.map((p) => p.trainable);
    for (const p of params) p.makeTrainable();
    const restoreMode = normLayers(ctx).length > 0 ? setNormStats(ctx, 'batch') : () => {};
    const vars = new Map(params.map((p) => [p.fullName, p.variable]));
    const opt = createOptimizer({ name: 'adam', lr: ctx.settings.lr ?? 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, groups: [] }, vars);
    const steps = ctx.settings.steps ?? 1;

    /** One entropy-minimisation step on a batch; returns the logits of its forward pass. */
    const step = (b: Batch): Float32Array => {
      let logits: Float32Array = new Float32Array(0);
      const { value, grads } = tf.variableGrads(() => {
        const out = ctx.model.forward(batchInputs(b), ctx.peft.context({ training: false }));
        logits = out.logits.dataSync() as Float32Array;
        return meanEntropy(out.logits as tf.Tensor2D);
      }, [...vars.values()]);
      value.dispose();
      const byName = new Map([...vars].map(([n, v]) => [n, grads[v.name]]));
      opt.step(byName);
      tf.dispose(Object.values(grads));
      return logits;
    };

    return {
      prepare(batches) {
        for (let e = 0; e < steps; e++) for (const b of batches) step(b);
      },
      predict(b) {
        if (ctx.mode === 'offline') {
          return tf.tidy(() => softmaxRows(ctx.model.forward(batchInputs(b), ctx.peft.context({ training: false })).logits.dataSync() as Float32Array, ctx.classes));
        }
        const first = step(b);
        for (let s = 1; s < steps; s++) step(b);
        return softmaxRows(first, ctx.classes);
      },
      restore() {
        opt.dispose();
        restoreMode();
        params.forEach((p, i) => {
          p.set(saved[i]);
          if (!wasTrainable[i]) p.freeze();
        });
      },
    };
  },
};
