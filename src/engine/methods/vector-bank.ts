// lowrank with basis: bank — VB-LoRA (Li et al. 2024; Python peft's VBLORA): every sub-vector of
// length L of every A and B is a top-k softmax admixture of vectors of one bank [N, L] shared by
// all sites:  sub = Σ_{j∈topk(ℓ)} softmax(ℓ_topk)_j · bank_j,  with per-site logits
//   vblora_logits_A [r, in/L, N]  → A [r, in]   (row-major),
//   vblora_logits_B [out/L, r, N] → B [out, r]  (each column's segments, as peft arranges them),
// Δh = u·Aᵀ·Bᵀ (peft: no scale). Init as peft: logits N(0, 0.1²), bank U(±0.02). The bank is
// `<module>.vblora.vector_bank` (peft's `base_model.vblora_vector_bank`).
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import { SiteModule, buildPerSite, inputDim } from './compose.js';
import type { BuildContext, BuiltModule } from './types.js';
import type { ModulePlanOf } from '../../plan/index.js';
import { SharedTensors } from './regenerate.js';
import { chosen, topkMask } from './topk.js';
import { PeftError } from '../../errors.js';

/** peft's VBLoRAConfig defaults for the initialisation. */
export const VBLORA_INIT = { logitsStd: 0.1, bankBound: 0.02 };

export class VectorBank extends SharedTensors {
  readonly bank: Param;
  constructor(readonly count: number, readonly length: number) {
    super();
    this.bank = this.trained('vector_bank', [count, length]);
  }

  /** Sub-vectors [..., L] from logits [..., N]: the top-k softmax admixture of bank vectors. */
  assemble(logits: tf.Tensor, k: number): tf.Tensor {
    const mask = topkMask(logits, k); // [..., k, N]
    const weights = tf.softmax(chosen(logits, mask)); // [..., k]
    const lead = mask.shape.slice(0, -1);
    const vectors = tf.reshape(tf.matMul(tf.reshape(mask, [-1, this.count]) as tf.Tensor2D, this.bank.value as tf.Tensor2D), [...lead, this.length]);
    return tf.sum(tf.mul(tf.expandDims(weights, -1), vectors), -2);
  }
}

export class BankLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly logitsA: Param;
  readonly logitsB: Param;
  constructor(readonly inDim: number, readonly outDim: number, readonly rank: number, readonly topK: number, readonly bank: VectorBank) {
    super();
    const L = bank.length;
    this.logitsA = this.param('vblora_logits_A', [rank, inDim / L, bank.count], ['adapter']);
    this.logitsB = this.param('vblora_logits_B', [outDim / L, rank, bank.count], ['adapter']);
  }

  factors(): { a: tf.Tensor2D; b: tf.Tensor2D } {
    const a = tf.reshape(this.bank.assemble(this.logitsA.value, this.topK), [this.rank, this.inDim]) as tf.Tensor2D;
    // [out/L, r, L] → [out/L, L, r] → [out, r]
    const b = tf.reshape(tf.transpose(this.bank.assemble(this.logitsB.value, this.topK), [0, 2, 1]), [this.outDim, this.rank]) as tf.Tensor2D;
    return { a, b };
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const lead = u.shape.slice(0, -1);
    const { a, b } = this.factors();
    const low = tf.matMul(tf.reshape(u, [-1, this.inDim]) as tf.Tensor2D, a, false, true);
    return tf.reshape(tf.matMul(low, b, false, true), [...lead, this.outDim]);
  }
}

export function buildBank(c: BuildContext<ModulePlanOf<'lowrank'>>): BuiltModule {
  const o = c.plan.options;
  const L = o.vector_length!;
  for (const s of c.sites) {
    const dims = [inputDim(c.plan, s), s.outDim];
    if (dims.some((d) => d % L !== 0)) {
      throw new PeftError('RECIPE', `VB-LoRA splits A and B into sub-vectors of length ${L}, but ${s.path} is ${dims[0]} → ${dims[1]}`, {
        where: `method.modules.${c.plan.name}.vector_length`, hint: 'choose a vector_length that divides every adapted dimension, or other positions',
      });
    }
  }
  if (o.top_k! > o.num_vectors!) {
    throw new PeftError('RECIPE', `top_k ${o.top_k} is more than the bank's ${o.num_vectors} vectors`, { where: `method.modules.${c.plan.name}.top_k` });
  }
  const bank = c.store.add(`${c.plan.name}.vblora`, new VectorBank(o.num_vectors!, L));
  c.store.nameTree();
  c.init(bank.bank, { kind: 'uniform', bound: VBLORA_INIT.bankBound });
  const built = buildPerSite(c, (site, uDim) => new BankLowRank(uDim, site.outDim, o.rank, o.top_k!, bank), (m) => {
    c.init(m.logitsA, { kind: 'normal', std: VBLORA_INIT.logitsStd });
    c.init(m.logitsB, { kind: 'normal', std: VBLORA_INIT.logitsStd });
  });
  if (!o.save_only_topk) return { attachments: built.attachments };
  return {
    attachments: built.attachments,
    // stored: the bank, and per logits row its k indices and k − 1 weights (peft's save_only_topk_weights)
    counts: () => {
      const rows = built.modules.reduce((n, m) => n + m.logitsA.size / bank.count + m.logitsB.size / bank.count, 0);
      const trainable = bank.bank.size + built.modules.reduce((n, m) => n + m.logitsA.size + m.logitsB.size, 0);
      return { trainable, stored: bank.bank.size + rows * (2 * o.top_k! - 1) };
    },
  };
}
