// The KV cache of one generation: per attention (keyed by its `heads` site) the keys and values
// of every position processed so far, [B, Hkv, S, d] (rotary applied, prefix-tuning keys not
// included: the attention puts those in front on every step); cross-attention keys/values,
// computed once from the encoder output; the key mask of the held positions; the encoder output.
// Every tensor it holds is kept out of the step's tidy scope and disposed when replaced, on
// `dispose`, or when beam search reorders the rows.
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionCache, KeyValue } from '../nn/attention.js';
import type { ForwardCache } from '../backbones/types.js';

/** One attention's slot. */
class Slot implements AttentionCache {
  past: KeyValue | null = null;
  constructor(readonly fixed: boolean) {}

  store(kv: KeyValue): void {
    if (this.fixed && this.past) return;
    const old = this.past;
    this.past = { key: tf.keep(kv.key), value: tf.keep(kv.value) };
    if (old) {
      if (old.key !== kv.key) old.key.dispose();
      if (old.value !== kv.value) old.value.dispose();
    }
  }

  /** Rows `index` of every held tensor (beam search: row i continues row index[i]). */
  reorder(index: tf.Tensor1D): void {
    if (!this.past || this.fixed) return;
    const old = this.past;
    this.past = { key: tf.keep(tf.gather(old.key, index)), value: tf.keep(tf.gather(old.value, index)) };
    old.key.dispose();
    old.value.dispose();
  }

  dispose(): void {
    this.past?.key.dispose();
    this.past?.value.dispose();
    this.past = null;
  }
}

export class KVCache implements ForwardCache {
  length = 0;
  prepended = 0;
  keyMask: tf.Tensor2D | null = null;
  encoder: { last: tf.Tensor3D; mask: tf.Tensor2D } | null = null;
  private readonly slots = new Map<string, Slot>();

  attention(key: string, fixed: boolean): AttentionCache {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = new Slot(fixed)));
    return slot;
  }

  record(step: { keyMask: tf.Tensor2D; prepended: number }): void {
    const added = tf.cast(step.keyMask, 'float32') as tf.Tensor2D;
    const next = this.keyMask ? (tf.concat([this.keyMask, added], 1) as tf.Tensor2D) : tf.clone(added);
    this.keyMask?.dispose();
    this.keyMask = tf.keep(next);
    this.length += step.keyMask.shape[1];
    this.prepended += step.prepended;
  }

  keepEncoder(encoder: { last: tf.Tensor3D; mask: tf.Tensor2D }): void {
    if (this.encoder) return;
    this.encoder = { last: tf.keep(tf.clone(encoder.last)), mask: tf.keep(tf.clone(encoder.mask)) };
  }

  /** Beam search: row i of the next step continues row `rows[i]` (self-attention keys/values and the key mask). */
  reorder(rows: readonly number[]): void {
    const index = tf.tensor1d(Int32Array.from(rows), 'int32');
    try {
      for (const slot of this.slots.values()) slot.reorder(index);
      if (this.keyMask) {
        const old = this.keyMask;
        this.keyMask = tf.keep(tf.gather(old, index));
        old.dispose();
      }
    } finally {
      index.dispose();
    }
  }

  /** Number of attentions with a slot (self and cross). */
  get slotCount(): number {
    return this.slots.size;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.slots.clear();
    this.keyMask?.dispose();
    this.keyMask = null;
    if (this.encoder) {
      this.encoder.last.dispose();
      this.encoder.mask.dispose();
      this.encoder = null;
    }
    this.length = 0;
    this.prepended = 0;
  }
}
