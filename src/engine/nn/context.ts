// The forward context: what one forward pass needs beyond its inputs — whether it trains
// (dropout on), a seeded source of dropout seeds, and the PEFT modules attached at the
// backbone's named sites. Backbones call `site(...)` at every unified-view position; with
// nothing attached it is just `compute(x)`.
import * as tf from '@tensorflow/tfjs-core';
import type { Linear } from './linear.js';

/** Keys and values a module prepends to an attention's own (prefix tuning): [B, Hkv, P, Dh]. */
export interface PrefixKV {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/** A module's output as h + scale·(x·Aᵀ)·Bᵀ (LoRA): what the fused linear computes in one op. */
export interface LowRankTerm {
  /** [r, in] */
  a: tf.Tensor;
  /** [out, r] */
  b: tf.Tensor;
  scale: number;
}

/** A PEFT module instance attached at one site. It implements the capabilities its function has. */
export interface Attachment {
  /** New h from the sublayer input x and its output h (insertion + composition applied). */
  transform?(x: tf.Tensor, h: tf.Tensor, ctx: ForwardContext): tf.Tensor;
  /** Replaces a linear layer's computation (weight-space methods: DoRA, LoHa, AdaLoRA). */
  linear?(x: tf.Tensor, base: Linear, ctx: ForwardContext): tf.Tensor;
  /** Keys/values prepended in the attention at this site (heads sites). */
  prefix?(batch: number, ctx: ForwardContext): PrefixKV;
  /** Vectors prepended to the embedding sequence (embeddings sites): [B, P, D]. */
  prepend?(batch: number, ctx: ForwardContext): tf.Tensor3D;
  /**
   * Its transform as a plain low-rank term of the linear layer's input, when it is exactly that in
   * this pass (no dropout in effect, a fixed scale); null otherwise. A linear site with such a
   * module alone runs as one fused op (backend/fused/lora-linear.ts) where the backend has it.
   */
  lowRank?(ctx: ForwardContext): LowRankTerm | null;
}

export interface ForwardOptions {
  training: boolean;
  /** Seed for dropout masks; each mask draws the next seed from it, so a step is reproducible. */
  seed?: number;
  /** Position ids of real tokens start here (Python peft's prefix tuning: the prefix length). */
  positionOffset?: number;
  /** The task of each row of the batch, for modules that route by task (Poly, MHR); null when none. */
  taskIds?: readonly number[] | null;
}

export class ForwardContext {
  readonly training: boolean;
  readonly positionOffset: number;
  readonly taskIds: readonly number[] | null;
  private seedCounter: number;
  private readonly passTensors: tf.Tensor[] = [];

  constructor(
    private readonly attachments: ReadonlyMap<string, readonly Attachment[]>,
    opts: ForwardOptions,
  ) {
    this.training = opts.training;
    this.seedCounter = opts.seed ?? 0;
    this.positionOffset = opts.positionOffset ?? 0;
    this.taskIds = opts.taskIds ?? null;
  }

  static plain(training = false): ForwardContext {
    return new ForwardContext(new Map(), { training });
  }

  has(key: string): boolean {
    return this.attachments.has(key);
  }

  /** h = compute(x), modified by whatever is attached at `key`. */
  site(key: string, x: tf.Tensor, compute: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
    const mods = this.attachments.get(key);
    let h = compute(x);
    if (!mods) return h;
    for (const m of mods) if (m.transform) h = m.transform(x, h, this);
    return h;
  }

  /** A linear layer at `key`: its output, modified by what is attached. */
  linear(key: string, x: tf.Tensor, base: Linear): tf.Tensor {
    const mods = this.attachments.get(key);
    if (!mods) return base.forward(x);
    if (mods.length === 1 && mods[0]!.lowRank && !mods[0]!.linear) {
      const term = mods[0]!.lowRank(this);
      if (term) {
        const fused = base.forwardLowRank(x, term);
        if (fused) return fused;
      }
    }
    const replacing = mods.find((m) => m.linear);
    let h = replacing ? replacing.linear!(x, base, this) : base.forward(x);
    for (const m of mods) if (m.transform) h = m.transform(x, h, this);
    return h;
  }

  prefixes(key: string, batch: number): PrefixKV[] {
    const mods = this.attachments.get(key);
    if (!mods) return [];
    return mods.filter((m) => m.prefix).map((m) => m.prefix!(batch, this));
  }

  prepends(key: string, batch: number): tf.Tensor3D[] {
    const mods = this.attachments.get(key);
    if (!mods) return [];
    return mods.filter((m) => m.prepend).map((m) => m.prepend!(batch, this));
  }

  /**
   * t, made once in this pass for several layers to use (a memo): in inference it outlives the
   * layer that made it and is freed with the pass (nn/layer-scope.ts).
   */
  forPass<T extends tf.Tensor>(t: T): T {
    this.passTensors.push(t);
    return t;
  }

  /** The tensors given to forPass so far. */
  get perPass(): readonly tf.Tensor[] {
    return this.passTensors;
  }

  /** Inverted dropout, active only in training; masks come from the context's seed. */
  dropout(x: tf.Tensor, rate: number): tf.Tensor {
    if (!this.training || rate <= 0) return x;
    return tf.dropout(x, rate, undefined, this.nextSeed());
  }

  nextSeed(): number {
    this.seedCounter = (this.seedCounter + 0x9e3779b9) >>> 0;
    return this.seedCounter;
  }
}
