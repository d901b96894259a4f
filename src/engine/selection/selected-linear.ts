// A projection whose weight trains only where a selection chose: the attachment at a linear site
// that computes y = x·W_effᵀ + b_eff (+ x·Aᵀ·Bᵀ) from the frozen W and the selection's own
// parameters. The backbone's tensors are never written during training; W_eff is rebuilt in
// every forward pass, so entries outside the selection are exactly the pretrained ones.
//  - sparse: the trainable `values` [k] are the selected entries themselves (initialised to
//    W[indices]): W_eff = where(M, scatter(values), W), M the selected positions. Their gradient
//    is the full fine-tuning gradient gathered at the indices, and the optimizer keeps state for
//    these k entries only.
//  - lowrank (SPT's structured tuning): y += x·Aᵀ·Bᵀ, A [r, in] Kaiming-uniform, B [out, r] zero.
//  - mask (learned): W_eff = W ⊙ [s > threshold] with a straight-through gradient ds = dW_eff ⊙ W.
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from '../nn/module.js';
import type { Linear } from '../nn/linear.js';
import type { Attachment, ForwardContext } from '../nn/context.js';
import type { SiteInfo } from '../backbones/types.js';
import { scatterEntries } from './scatter.js';

/** How one tensor of a projection is trained (indices are flat positions in its stored layout, ascending). */
export type SlotSpec =
  | { form: 'sparse'; tensor: 'weight' | 'bias'; indices: Int32Array }
  | { form: 'lowrank'; tensor: 'weight'; rank: number }
  | { form: 'mask'; tensor: 'weight'; threshold: number; initScore: number };

interface SparseState {
  spec: Extract<SlotSpec, { form: 'sparse' }>;
  values: Param;
  /** The indices and the dense boolean mask they make, kept for every forward pass. */
  idx: tf.Tensor1D;
  mask: tf.Tensor;
}

/** Parameter names inside the attachment (`<site>.select.<name>`). */
export const SLOT_PARAM = { weight: 'values', bias: 'bias_values', A: 'lora_A', B: 'lora_B', scores: 'scores' } as const;

export class SelectedLinear extends Module implements Attachment {
  private readonly sparse = new Map<'weight' | 'bias', SparseState>();
  readonly A: Param | null = null;
  readonly B: Param | null = null;
  readonly scores: Param | null = null;
  private readonly binarize: ((s: tf.Tensor) => tf.Tensor) | null = null;

  constructor(readonly site: SiteInfo, readonly base: Linear, readonly slots: readonly SlotSpec[]) {
    super();
    for (const s of slots) {
      if (s.form === 'sparse') {
        const values = this.param(s.tensor === 'weight' ? SLOT_PARAM.weight : SLOT_PARAM.bias, [s.indices.length], ['adapter', 'selected']);
        this.sparse.set(s.tensor, { spec: s, values, idx: null as never, mask: null as never });
      } else if (s.form === 'lowrank') {
        this.A = this.param(SLOT_PARAM.A, [s.rank, base.inFeatures], ['adapter']);
        this.B = this.param(SLOT_PARAM.B, [base.outFeatures, s.rank], ['adapter']);
      } else {
        this.scores = this.param(SLOT_PARAM.scores, [...base.weight.shape], ['adapter']);
        const thr = s.threshold;
        // R-AMT's Binarizer: 1 where s > threshold, else 0; its gradient passes straight through
        this.binarize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
          value: tf.cast(tf.greater(args[0] as tf.Tensor, thr), 'float32'),
          gradFunc: (dy: tf.Tensor | tf.Tensor[]) => dy as tf.Tensor,
        })) as unknown as (s: tf.Tensor) => tf.Tensor;
      }
    }
  }

  /** The backbone tensor a slot trains. */
  baseParam(tensor: 'weight' | 'bias'): Param {
    const p = tensor === 'weight' ? this.base.weight : this.base.bias;
    if (!p) throw new Error(`${this.site.path} has no bias`);
    return p;
  }

  /**
   * Initial values: the selected entries of the backbone (sparse), A Kaiming-uniform and B zero
   * (lowrank), every score at its initial value (mask). Needs the backbone's weights.
   */
  initialise(seeded: (p: Param, rule: { kind: 'kaiming'; fanIn: number } | { kind: 'zeros' } | { kind: 'constant'; value: number }) => void): void {
    for (const st of this.sparse.values()) {
      const w = this.baseParam(st.spec.tensor).value.dataSync() as Float32Array;
      st.values.set(tf.tensor1d(Float32Array.from(st.spec.indices, (i) => w[i])));
    }
    if (this.A && this.B) {
      seeded(this.A, { kind: 'kaiming', fanIn: this.base.inFeatures });
      seeded(this.B, { kind: 'zeros' });
    }
    const m = this.slots.find((s) => s.form === 'mask');
    if (this.scores && m?.form === 'mask') seeded(this.scores, { kind: 'constant', value: m.initScore });
    this.keepIndexTensors();
  }

  /** Builds the kept index and mask tensors (after the values are set, or loaded). */
  keepIndexTensors(): void {
    for (const st of this.sparse.values()) {
      st.idx?.dispose();
      st.mask?.dispose();
      const p = this.baseParam(st.spec.tensor);
      const flags = new Uint8Array(p.size);
      for (const i of st.spec.indices) flags[i] = 1;
      st.idx = tf.keep(tf.tensor1d(st.spec.indices, 'int32'));
      st.mask = tf.keep(tf.tensor(flags, [...p.shape], 'bool'));
    }
  }

  /** The indices of a sparse slot, read from a file (before its values). */
  setIndices(tensor: 'weight' | 'bias', indices: ArrayLike<number>): void {
    const st = this.sparse.get(tensor)!;
    st.spec.indices.set(indices);
  }

  /** Sets a sparse slot's values as stored (its indices set first). */
  setValues(tensor: 'weight' | 'bias', values: ArrayLike<number>): void {
    this.sparse.get(tensor)!.values.set(tf.tensor1d(Float32Array.from(values)));
    this.keepIndexTensors();
  }

  sparseValues(tensor: 'weight' | 'bias'): Param | null {
    return this.sparse.get(tensor)?.values ?? null;
  }

  /** The weight or bias the layer computes with (a new tensor, or the backbone's own). */
  effective(tensor: 'weight' | 'bias'): tf.Tensor | null {
    const base = tensor === 'weight' ? this.base.weight : this.base.bias;
    if (!base) return null;
    const st = this.sparse.get(tensor);
    if (st) {
      const scattered = tf.reshape(scatterEntries(st.values.value, st.idx, base.size), [...base.shape]);
      return tf.where(st.mask, scattered, base.value);
    }
    if (tensor === 'weight' && this.scores && this.binarize) return tf.mul(base.value, this.binarize(this.scores.value));
    return base.value;
  }

  linear(x: tf.Tensor, base: Linear, _ctx: ForwardContext): tf.Tensor {
    let y = base.forwardWith(x, this.effective('weight')!, this.effective('bias'));
    if (this.A && this.B) {
      const lead = x.shape.slice(0, -1);
      const x2 = tf.reshape(x, [-1, base.inFeatures]) as tf.Tensor2D;
      const low = tf.matMul(tf.matMul(x2, this.A.value as tf.Tensor2D, false, true), this.B.value as tf.Tensor2D, false, true);
      y = tf.add(y, tf.reshape(low, [...lead, base.outFeatures]));
    }
    return y;
  }

  /** The tensors as merged into the backbone: tensor → new value in its stored layout (the caller disposes them). */
  folded(): Map<'weight' | 'bias', tf.Tensor> {
    const out = new Map<'weight' | 'bias', tf.Tensor>();
    const weight = tf.tidy(() => {
      let w = this.effective('weight')!;
      if (this.A && this.B) {
        const ba = tf.matMul(this.B.value as tf.Tensor2D, this.A.value as tf.Tensor2D);
        w = tf.add(w, this.base.layout === 'out_in' ? ba : tf.transpose(ba));
      }
      return w === this.base.weight.value ? tf.clone(w) : w;
    });
    out.set('weight', weight);
    if (this.sparse.has('bias')) out.set('bias', tf.tidy(() => this.effective('bias')!));
    return out;
  }

  /** The entries a trained slot changed: its indices (sparse), the zeroed ones (mask), all (lowrank). */
  changedIndices(tensor: 'weight' | 'bias'): Int32Array | null {
    const st = this.sparse.get(tensor);
    if (st) return st.spec.indices;
    if (tensor === 'weight' && this.scores) {
      const s = this.scores.value.dataSync();
      const thr = (this.slots.find((x) => x.form === 'mask') as Extract<SlotSpec, { form: 'mask' }>).threshold;
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) if (!(s[i] > thr)) out.push(i);
      return Int32Array.from(out);
    }
    return null;
  }

  override dispose(): void {
    for (const st of this.sparse.values()) {
      st.idx?.dispose();
      st.mask?.dispose();
    }
    super.dispose();
  }
}
