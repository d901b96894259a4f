// DoRA (Liu et al. 2024; Python peft's LoRA with use_dora): the weight is split into a
// magnitude m [out] and a direction, and LoRA updates the direction:
//   y = m ⊙ (W + s·B·A)·x / ‖W + s·B·A‖_row + b,
// the row norm detached from the graph (DoRA §4.3, as peft does). With input dropout in
// training peft computes base(x) + (m/‖·‖ − 1)⊙(W·x̃) + (m/‖·‖)⊙s·B·A·x̃ (x̃ = dropout(x)), which
// is the formula above when there is no dropout; both are what `linear` computes.
// Names as peft saves them: lora_A [r, in], lora_B [out, r], lora_magnitude_vector [out];
// m starts at ‖W + s·B·A‖_row, so the module starts as the identity.
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import type { Linear } from '../nn/linear.js';
import type { Attachment, ForwardContext } from '../nn/context.js';
import type { BuildContext, BuiltModule, Foldable, WeightFold } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { initLowRankPair } from './init.js';
import { PeftError } from '../../errors.js';

/** x with no gradient flowing back through it (torch's .detach()). */
const detach = tf.customGrad((...args) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }));

export class DoraLinear extends Module implements Attachment, Foldable {
  readonly A: Param;
  readonly B: Param;
  readonly magnitude: Param;
  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly rank: number,
    readonly scale: number,
    readonly dropoutRate: number,
  ) {
    super();
    this.A = this.param('lora_A', [rank, inDim], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank], ['adapter']);
    this.magnitude = this.param('lora_magnitude_vector', [outDim], ['adapter']);
  }

  /** ‖W + s·B·A‖ per output row, [out] (no gradient flows through it). */
  weightNorm(base: Linear): tf.Tensor1D {
    return tf.tidy(() => {
      const w = tf.add(base.weightOutIn(), tf.mul(tf.matMul(this.B.value as tf.Tensor2D, this.A.value as tf.Tensor2D), this.scale));
      return detach(tf.sqrt(tf.sum(tf.square(w), 1))) as tf.Tensor1D;
    });
  }

  linear(x: tf.Tensor, base: Linear, ctx: ForwardContext): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const factor = tf.div(this.magnitude.value, this.weightNorm(base));
    const xd = ctx.dropout(x, this.dropoutRate);
    const x2 = tf.reshape(xd, [-1, this.inDim]) as tf.Tensor2D;
    const low = tf.mul(tf.matMul(tf.matMul(x2, this.A.value as tf.Tensor2D, false, true), this.B.value as tf.Tensor2D, false, true), this.scale);
    const plain = tf.reshape(base.forwardWith(x2, base.weight.value, null), [-1, this.outDim]);
    const bias = base.bias?.value ?? null;
    let y: tf.Tensor;
    if (xd === x) {
      y = tf.mul(tf.add(plain, low), factor);
      if (bias) y = tf.add(y, bias);
    } else {
      const full = tf.reshape(base.forward(x), [-1, this.outDim]);
      y = tf.add(full, tf.add(tf.mul(plain, tf.sub(factor, 1)), tf.mul(low, factor)));
    }
    return tf.reshape(y, [...lead, this.outDim]);
  }

  /** Merged: W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖_row (W as [out, in]). */
  fold(): WeightFold {
    return {
      kind: 'reweight',
      weight: (w) => tf.tidy(() => {
        const adapted = tf.add(w, tf.mul(tf.matMul(this.B.value as tf.Tensor2D, this.A.value as tf.Tensor2D), this.scale));
        const rowNorm = tf.sqrt(tf.sum(tf.square(adapted), 1, true));
        return tf.mul(adapted, tf.div(tf.reshape(this.magnitude.value, [-1, 1]), rowNorm)) as tf.Tensor2D;
      }),
    };
  }
}

/** The Linear module at a site (DoRA needs its weight), found by the site's path. */
function linearAt(c: BuildContext<ModulePlanOf<'lowrank'>>, modules: Map<string, Module>, path: string): Linear {
  const found = modules.get(path) as Linear | undefined;
  if (!found || typeof found.weightOutIn !== 'function') {
    throw new PeftError('RECIPE', `DoRA needs the projection's weight, but ${path} is not a linear layer of this backbone`, {
      where: `method.modules.${c.plan.name}`,
    });
  }
  return found;
}

/** DoRA's modules (lowrank with dora: parallel, scaled with a fixed scale — the planner checked). */
export function buildDora(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const { rank, init, dropout } = c.plan.options;
  const scale = c.plan.scale as number;
  const modules = new Map(c.model.root.namedModules());
  const made = c.sites.map((site) => {
    const base = linearAt(c, modules, site.path);
    return { site, base, m: c.store.add(`${site.path}.${c.plan.name}`, new DoraLinear(site.inDim, site.outDim, rank, scale, dropout)) };
  });
  c.store.nameTree();
  for (const { site, base, m } of made) {
    initLowRankPair(c.init, init, m.A, m.B, site.inDim, rank);
    c.init(m.magnitude, { kind: 'ones' });
    // the magnitude starts at the adapted weight's row norms (needs the backbone's weights;
    // with shapes only nothing was initialised and nothing is read)
    if (m.magnitude.loaded && base.weight.loaded) m.magnitude.set(m.weightNorm(base));
  }
  return { attachments: new Map(made.map(({ site, m }) => [site.path, m])) };
}
