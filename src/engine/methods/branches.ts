// lowrank with branches: parallel+sequential — Hydra (Kim et al. 2023): at one projection a
// parallel branch reads its input x and a sequential branch reads its output h (after its bias),
// both low-rank, summed and scaled by the same s:
//   Δh = s·(B_p·A_p·x + B_s·A_s·h)      (bias: true adds each linear's bias, as their vision code:
//   Δh = s·((x·A_pᵀ + a_p)·B_pᵀ + b_p + (h·A_sᵀ + a_s)·B_sᵀ + b_s)).
// The up-projections start at zero, so the module starts as the identity. It folds exactly:
//   W' = W + s·(B_p·A_p + B_s·A_s·W),   b' = b + s·(B_s·A_s·b + B_p·a_p + b_p + B_s·a_s + b_s).
// With branches: single and bias: true it is LoRA with biases (the parallel branch alone).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite } from './compose.js';
import type { BuildContext, BuiltModule, WeightFold } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { initLowRankPair } from './init.js';

interface Branch {
  A: Param;
  B: Param;
  a: Param | null;
  b: Param | null;
  inDim: number;
}

export class BranchedLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly parallel: Branch;
  readonly sequential: Branch | null;
  constructor(readonly inDim: number, readonly outDim: number, rank: number, seqRank: number | null, bias: boolean) {
    super();
    const branch = (prefix: string, r: number, inD: number): Branch => ({
      A: this.param(`${prefix}lora_A`, [r, inD], ['adapter']),
      B: this.param(`${prefix}lora_B`, [outDim, r], ['adapter']),
      a: bias ? this.param(`${prefix}lora_A_bias`, [r], ['adapter']) : null,
      b: bias ? this.param(`${prefix}lora_B_bias`, [outDim], ['adapter']) : null,
      inDim: inD,
    });
    this.parallel = branch('', rank, inDim);
    this.sequential = seqRank === null ? null : branch('seq_', seqRank, outDim);
  }

  private run(br: Branch, u: tf.Tensor): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    let low = tf.matMul(tf.reshape(u, [-1, br.inDim]) as tf.Tensor2D, br.A.value as tf.Tensor2D, false, true);
    if (br.a) low = tf.add(low, br.a.value);
    let out = tf.matMul(low, br.B.value as tf.Tensor2D, false, true);
    if (br.b) out = tf.add(out, br.b.value);
    return tf.reshape(out, [...lead, this.outDim]);
  }

  /** The parallel branch of u (the sequential one needs h: see deltaAt). */
  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    return this.run(this.parallel, u);
  }

  protected override deltaAt(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const par = this.run(this.parallel, ctx.dropout(x, this.inputDropout));
    return this.sequential ? tf.add(par, this.run(this.sequential, ctx.dropout(h, this.inputDropout))) : par;
  }

  override fold(): WeightFold {
    const plain = super.fold();
    if (plain.kind === 'refuse') return plain;
    const biased = Boolean(this.parallel.a);
    return {
      kind: 'affine',
      addsBias: biased,
      apply: (w, bias) => {
        const s = this.scaleValue();
        const ba = (br: Branch) => tf.matMul(br.B.value as tf.Tensor2D, br.A.value as tf.Tensor2D);
        // what a branch adds for a zero input: B·a + b (none without biases)
        const own = (br: Branch) => (br.a ? tf.add(tf.reshape(tf.matMul(br.B.value as tf.Tensor2D, tf.reshape(br.a.value, [-1, 1]) as tf.Tensor2D), [-1]), br.b!.value) : null);
        const nextW = tf.tidy(() => {
          let dw: tf.Tensor = ba(this.parallel);
          if (this.sequential) dw = tf.add(dw, tf.matMul(ba(this.sequential), w));
          return tf.add(w, tf.mul(dw, s)) as tf.Tensor2D;
        });
        const terms = tf.tidy(() => {
          const out: tf.Tensor[] = [];
          const p = own(this.parallel);
          if (p) out.push(p);
          if (this.sequential) {
            const q = own(this.sequential);
            if (q) out.push(q);
            if (bias) out.push(tf.reshape(tf.matMul(ba(this.sequential), tf.reshape(bias, [-1, 1]) as tf.Tensor2D), [-1]));
          }
          return out;
        });
        if (terms.length === 0) return { w: nextW, b: bias ? tf.clone(bias) : null };
        const nextB = tf.tidy(() => tf.add(bias ?? tf.zeros([this.outDim]), tf.mul(tf.addN(terms), s)) as tf.Tensor1D);
        terms.forEach((t) => t.dispose());
        return { w: nextW, b: nextB };
      },
    };
  }
}

export function buildBranched(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const seqRank = o.branches === 'parallel+sequential' ? o.sequential_rank! : null;
  const built = buildPerSite(c, (site, uDim) => new BranchedLowRank(uDim, site.outDim, o.rank, seqRank, o.bias), (m) => {
    for (const br of [m.parallel, m.sequential]) {
      if (!br) continue;
      initLowRankPair(c.init, o.init, br.A, br.B, br.inDim, br.A.shape[0]);
      if (br.a) c.init(br.a, { kind: 'zeros' });
      if (br.b) c.init(br.b, { kind: 'zeros' });
    }
  });
  return { attachments: built.attachments };
}
