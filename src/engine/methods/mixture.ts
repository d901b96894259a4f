// mixture: Mixture-of-Domain-Adapters at ffn.down_proj, as the authors' RobertaOutput and MoeGating
// compute it (modeling_roberta.py:387-432, :1709-1734; mixda_adapter.py:16-42). x is the FFN's
// activation, h the second projection's output (the last expert):
//   e_j = up_j(f(down_j(x)))                       K domain adapters (up zero at init)
//   w   = softmax(gate(x at the last position))    an MLP: Linear(x, g) → [ReLU → Linear(g, g)]×(L−1) → ReLU → Linear(g, K+1)
//   h'  = Σ_{j<K} w_j·e_j + w_K·h                  one mixture per row, shared by its positions
// A domain stage of a mixda stream trains one adapter alone with the gate off: h' = h + e_j.
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { activation } from '../nn/activations.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { FunctionModule } from './types.js';
import type { OptionsOf } from '../../plan/index.js';

type MixOptions = OptionsOf<'mixture'>;

interface Dense {
  weight: Param;
  bias: Param;
}

function dense(x: tf.Tensor, l: Dense): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  const out = tf.add(tf.matMul(tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D, l.weight.value as tf.Tensor2D, false, true), l.bias.value);
  return tf.reshape(out, [...lead, l.weight.shape[0]]);
}

/** What the module computes now: the gated mixture, or one domain adapter beside the FFN (its domain stage). */
export type MixtureMode = { kind: 'gate' } | { kind: 'expert'; index: number };

export class MixtureOfAdapters extends SiteModule {
  protected readonly nonlinear = 'the gate and the adapters are nonlinear';
  readonly experts: { down: Dense; up: Dense }[] = [];
  readonly gate: Dense[] = [];
  private mode: MixtureMode = { kind: 'gate' };

  constructor(readonly inDim: number, readonly outDim: number, readonly o: MixOptions) {
    super();
    const d = o.bottleneck;
    for (let j = 0; j < o.n_experts; j++) {
      this.experts.push({
        down: { weight: this.param(`experts.${j}.down.weight`, [d, inDim], ['adapter']), bias: this.param(`experts.${j}.down.bias`, [d], ['adapter']) },
        up: { weight: this.param(`experts.${j}.up.weight`, [outDim, d], ['adapter']), bias: this.param(`experts.${j}.up.bias`, [outDim], ['adapter']) },
      });
    }
    const g = o.gate_hidden;
    const sizes = [inDim, ...new Array(o.gate_layers).fill(g), o.n_experts + 1];
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.gate.push({ weight: this.param(`gate.${l}.weight`, [sizes[l + 1], sizes[l]], ['adapter']), bias: this.param(`gate.${l}.bias`, [sizes[l + 1]], ['adapter']) });
    }
  }

  setMode(mode: MixtureMode): void {
    this.mode = mode;
  }

  /** e_j from the FFN activation x. */
  expert(j: number, x: tf.Tensor): tf.Tensor {
    const f = activation(this.o.nonlinearity);
    return dense(f(dense(x, this.experts[j].down)), this.experts[j].up);
  }

  /** Gate weights [B, K+1] from x [B, T, I] (or [B, I]). */
  gateWeights(x: tf.Tensor, ctx: ForwardContext | null): tf.Tensor2D {
    let g: tf.Tensor = x.rank === 3
      ? (this.o.gate_input === 'mean' ? tf.mean(x, 1) : tf.squeeze(tf.slice(x, [0, x.shape[1]! - 1, 0], [-1, 1, -1]), [1]))
      : x;
    const drop = (t: tf.Tensor) => (ctx ? ctx.dropout(t, this.o.dropout) : t);
    this.gate.forEach((l, i) => {
      g = dense(drop(g), l);
      if (i + 1 < this.gate.length) g = tf.relu(g);
    });
    return tf.softmax(g) as tf.Tensor2D;
  }

  delta(u: tf.Tensor): tf.Tensor {
    return this.mode.kind === 'expert' ? this.expert(this.mode.index, u) : tf.zerosLike(u);
  }

  override transform(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    if (this.mode.kind === 'expert') return tf.add(h, this.expert(this.mode.index, ctx.dropout(x, this.o.dropout)));
    return this.mix(x, h, ctx);
  }

  /** Σ_{j<K} w_j·e_j + w_K·h. */
  mix(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext | null): tf.Tensor {
    const w = this.gateWeights(x, ctx);
    const B = w.shape[0];
    const shape = [B, ...new Array(h.rank - 1).fill(1)];
    const weight = (j: number) => tf.reshape(tf.slice(w, [0, j], [B, 1]), shape);
    const terms = this.experts.map((_, j) => tf.mul(this.expert(j, x), weight(j)));
    return tf.addN([...terms, tf.mul(h, weight(this.o.n_experts))]);
  }
}

export const mixtureModule: FunctionModule<'mixture'> = {
  kind: 'mixture',
  build(c) {
    const o = c.plan.options;
    return buildPerSite(c, (site, uDim) => new MixtureOfAdapters(uDim, site.outDim, o), (m, _site, uDim) => {
      // mixda_adapter.py: down kaiming_uniform(a=√5), its bias 0, up weight and bias 0; the gate's
      // linears nn.Linear's default (weight and bias U(±1/√fan_in))
      for (const e of m.experts) {
        c.init(e.down.weight, { kind: 'kaiming', fanIn: uDim });
        c.init(e.down.bias, { kind: 'zeros' });
        c.init(e.up.weight, { kind: 'zeros' });
        c.init(e.up.bias, { kind: 'zeros' });
      }
      for (const l of m.gate) {
        c.init(l.weight, { kind: 'kaiming', fanIn: l.weight.shape[1] });
        c.init(l.bias, { kind: 'uniform', bound: 1 / Math.sqrt(l.weight.shape[1]) });
      }
    });
  },
};
