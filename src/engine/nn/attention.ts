// Multi-head attention shared by every family: separate q/k/v projections (names given by the
// family), grouped-query heads, optional rotary embeddings, additive masks, extra score bias
// (T5), and the unified-view sites: each projection, the per-head output (`heads`: prefixes are
// concatenated there, and head-wise modules see the query), the output projection. In generation
// an optional cache slot keeps keys/values across steps: new ones are appended, prefixes stay in
// front of the cached ones, cross-attention keys/values are projected once.
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';
import { Linear } from './linear.js';
import type { ForwardContext } from './context.js';
import type { Rotary } from './rotary.js';
import { attention as fusedAttention, fusedAttentionAvailable } from '../backend/fused/index.js';

/** Large negative used for masked scores (exp underflows to exactly 0 in float32). */
export const MASKED = -1e9;

/** Site keys of one attention: where PEFT modules can attach. */
export interface AttentionSites {
  query: string;
  key: string;
  value: string;
  heads: string;
  outProj: string;
}

export interface AttentionConfig {
  hidden: number;
  numHeads: number;
  numKvHeads?: number;
  headDim?: number;
  /** Input size of keys/values (cross-attention from an encoder of another width). */
  kvHidden?: number;
  qkvBias: boolean;
  outBias: boolean;
  /** Module names of the projections as in the checkpoint. */
  names: { q: string; k: string; v: string; o: string };
  /** Score scale; default 1/√headDim (T5 uses 1). */
  scale?: number;
  dropout?: number;
}

/**
 * The additive mask [B, 1, T, S]: 0 where a query may attend, MASKED elsewhere.
 * `keyMask` [B, S] is 1 for real keys; `causal` masks keys after the query (query t is at key
 * position t + (S − T), so a cache or prefix of length S − T comes first).
 */
export function additiveMask(keyMask: tf.Tensor | null, batch: number, T: number, S: number, causal: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    let m: tf.Tensor = tf.zeros([batch, 1, T, S]);
    if (keyMask) {
      const pad = tf.reshape(tf.mul(tf.sub(1, tf.cast(keyMask, 'float32')), MASKED), [batch, 1, 1, S]);
      m = tf.add(m, pad);
    }
    if (causal) {
      const offset = S - T;
      const data = new Float32Array(T * S);
      for (let t = 0; t < T; t++) for (let s = t + offset + 1; s < S; s++) data[t * S + s] = MASKED;
      m = tf.add(m, tf.tensor4d(data, [1, 1, T, S]));
    }
    return m as tf.Tensor4D;
  });
}

/** Prepends `p` attend-everywhere columns to an additive mask [B, 1, T, S] → [B, 1, T, p + S]. */
export function extendMaskForPrefix(mask: tf.Tensor4D, p: number): tf.Tensor4D {
  if (p === 0) return mask;
  const [B, , T] = mask.shape;
  return tf.concat([tf.zeros([B, 1, T, p]), mask], 3) as tf.Tensor4D;
}

/** [B, T, H·d] → [B, H, T, d] */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [B, T, D] = x.shape;
  return tf.transpose(tf.reshape(x, [B, T, heads, D / heads]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** [B, H, T, d] → [B, T, H·d] */
export function mergeHeads(x: tf.Tensor4D): tf.Tensor3D {
  const [B, H, T, d] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B, T, H * d]) as tf.Tensor3D;
}

/** Keys and values of one attention, [B, Hkv, S, d] each (rotary applied, prefixes not included). */
export interface KeyValue {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/**
 * What one attention keeps across the steps of a generation (a KV cache slot). Self-attention:
 * the new keys/values are appended to `past` and attention runs over past + new (prefix keys stay
 * in front of both); `store` receives past + new for the next step. Cross-attention (`fixed`):
 * keys/values depend on the encoder output alone, so the first step stores them and later steps
 * reuse them without projecting again.
 */
export interface AttentionCache {
  readonly past: KeyValue | null;
  readonly fixed: boolean;
  store(kv: KeyValue): void;
}

/** Per-row positions of the queries (left-padded batches): ids [B, T] int32, all below `limit`. */
export interface TokenPositions {
  ids: tf.Tensor2D;
  limit: number;
}

export interface AttendOptions {
  rotary?: Rotary;
  /** Position of the first query (rotary). */
  positionOffset?: number;
  /** Per-row positions of the queries (rotary), instead of positionOffset + 0…T−1. */
  positions?: TokenPositions;
  /** The KV cache slot of this attention (generation). */
  cache?: AttentionCache;
  /**
   * Added to the scores: [1|B, H, T, S] (zeros for prefix columns), or a function of the prefix
   * length p giving [1|B, H, T, p + S] (T5's relative positions, which count prefix keys).
   */
  scoreBias?: tf.Tensor | ((prefix: number) => tf.Tensor);
}

export class Attention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly dropoutRate: number;

  /**
   * Creates and registers the four projections under `cfg.names`, or uses `linears` that the
   * family registered elsewhere in its tree (BERT keeps the output projection in a sibling module).
   */
  constructor(readonly cfg: AttentionConfig, linears?: { q: Linear; k: Linear; v: Linear; o: Linear }) {
    super();
    this.numHeads = cfg.numHeads;
    this.numKvHeads = cfg.numKvHeads ?? cfg.numHeads;
    this.headDim = cfg.headDim ?? cfg.hidden / cfg.numHeads;
    this.scale = cfg.scale ?? 1 / Math.sqrt(this.headDim);
    this.dropoutRate = cfg.dropout ?? 0;
    if (linears) {
      ({ q: this.q, k: this.k, v: this.v, o: this.o } = linears);
      return;
    }
    const kvIn = cfg.kvHidden ?? cfg.hidden;
    this.q = this.module(cfg.names.q, new Linear(cfg.hidden, this.numHeads * this.headDim, { bias: cfg.qkvBias }));
    this.k = this.module(cfg.names.k, new Linear(kvIn, this.numKvHeads * this.headDim, { bias: cfg.qkvBias }));
    this.v = this.module(cfg.names.v, new Linear(kvIn, this.numKvHeads * this.headDim, { bias: cfg.qkvBias }));
    this.o = this.module(cfg.names.o, new Linear(this.numHeads * this.headDim, cfg.hidden, { bias: cfg.outBias }));
  }

  /**
   * x [B, T, D]; kvInput [B, S, Dkv] (x itself for self-attention); mask [B, 1, T, S] additive.
   * `rotary` with the position offset of x's first token; `scoreBias` [1|B, H, T, S] (T5).
   */
  forward(
    x: tf.Tensor3D,
    kvInput: tf.Tensor3D,
    mask: tf.Tensor4D,
    ctx: ForwardContext,
    sites: AttentionSites,
    opts: AttendOptions = {},
  ): tf.Tensor3D {
    const q = ctx.linear(sites.query, x, this.q);
    const c = opts.cache;
    if (c?.fixed && c.past) {
      // cross-attention keys/values were projected on the first step
      return this.attendHeads(this.rotate(splitHeads(q, this.numHeads), opts), c.past.key, c.past.value, mask, ctx, sites, opts);
    }
    const k = ctx.linear(sites.key, kvInput, this.k);
    const v = ctx.linear(sites.value, kvInput, this.v);
    return this.attend(q, k, v, mask, ctx, sites, opts);
  }

  /**
   * The attention from projected queries q3 [B, T, H·d] and keys/values k3, v3 [B, S, Hkv·d]
   * (GPT-2 slices them out of its fused projection): rotary, the cache, prefixes, scores, the
   * `heads` site and the output projection.
   */
  attend(
    q3: tf.Tensor,
    k3: tf.Tensor,
    v3: tf.Tensor,
    mask: tf.Tensor4D,
    ctx: ForwardContext,
    sites: Pick<AttentionSites, 'heads' | 'outProj'>,
    opts: AttendOptions = {},
  ): tf.Tensor3D {
    if (this.fusable(q3, k3, mask, ctx, sites, opts)) {
      const T = q3.shape[1]!;
      const rotary = opts.rotary ? opts.rotary.tables(opts.positionOffset ?? 0, T) : null;
      const out = fusedAttention(q3, k3, v3, mask, { heads: this.numHeads, kvHeads: this.numKvHeads, scale: this.scale, rotary });
      return ctx.linear(sites.outProj, out, this.o) as tf.Tensor3D;
    }
    const q = this.rotate(splitHeads(q3, this.numHeads), opts);
    let k = this.rotate(splitHeads(k3, this.numKvHeads), opts);
    let v = splitHeads(v3, this.numKvHeads);
    const c = opts.cache;
    if (c) {
      if (c.past) {
        k = tf.concat([c.past.key, k], 2) as tf.Tensor4D;
        v = tf.concat([c.past.value, v], 2) as tf.Tensor4D;
      }
      c.store({ key: k, value: v });
    }
    return this.attendHeads(q, k, v, mask, ctx, sites, opts);
  }

  /**
   * Whether this attention is the plain case the fused op computes (backend/fused/attention.ts;
   * one kernel each way on native): no cache, nothing attached at the heads site (no prefixes,
   * no head-wise module), no extra score bias, no dropout in effect, rotary (if any) at one
   * offset for all rows over the queries' own keys, a mask [1|B, 1, 1|T, S].
   */
  private fusable(q3: tf.Tensor, k3: tf.Tensor, mask: tf.Tensor4D, ctx: ForwardContext, sites: Pick<AttentionSites, 'heads'>, opts: AttendOptions): boolean {
    if (!fusedAttentionAvailable() || opts.cache || opts.scoreBias || ctx.has(sites.heads)) return false;
    if (ctx.training && this.dropoutRate > 0) return false;
    const [B, T] = q3.shape;
    const S = k3.shape[1];
    if (opts.rotary && (opts.positions || S !== T || this.headDim % 2 !== 0)) return false;
    if (this.headDim > 512 || q3.rank !== 3 || k3.rank !== 3) return false;
    const [mB, m1, mT, mS] = mask.shape;
    return (mB === 1 || mB === B) && m1 === 1 && (mT === 1 || mT === T) && mS === S;
  }

  /** Rotary embeddings of x [B, H, T, d] at the queries' positions (x itself without rotary). */
  private rotate(x: tf.Tensor4D, opts: AttendOptions): tf.Tensor4D {
    if (!opts.rotary) return x;
    if (opts.positions) return rotaryAt(opts.rotary, x, opts.positions);
    // with a cache, every step has a new offset: rows of one shared table instead of a table per step
    if (opts.cache) return rotaryFrom(opts.rotary, x, opts.positionOffset ?? 0);
    return opts.rotary.apply(x, opts.positionOffset ?? 0);
  }

  /**
   * Heads q [B, H, T, d] over keys/values [B, Hkv, S, d] (the cache's included): prefixes in front,
   * scores, mask [B, 1, T, S], the `heads` site and the output projection.
   */
  private attendHeads(
    q: tf.Tensor4D,
    k0: tf.Tensor4D,
    v0: tf.Tensor4D,
    mask: tf.Tensor4D,
    ctx: ForwardContext,
    sites: Pick<AttentionSites, 'heads' | 'outProj'>,
    opts: AttendOptions,
  ): tf.Tensor3D {
    const B = q.shape[0];
    let k = k0;
    let v = v0;
    const prefixes = ctx.prefixes(sites.heads, B);
    const p = prefixes.reduce((n, pk) => n + pk.key.shape[2], 0);
    let m = mask;
    let bias = typeof opts.scoreBias === 'function' ? opts.scoreBias(p) : opts.scoreBias;
    if (p > 0) {
      k = tf.concat([...prefixes.map((pk) => pk.key), k], 2) as tf.Tensor4D;
      v = tf.concat([...prefixes.map((pk) => pk.value), v], 2) as tf.Tensor4D;
      m = extendMaskForPrefix(mask, p);
      if (bias && typeof opts.scoreBias !== 'function') bias = tf.pad(bias, [[0, 0], [0, 0], [0, 0], [p, 0]]);
    }
    // Grouped-query heads without copying keys/values: query heads j·n … j·n+n−1 share kv head j,
    // so [B, H, T, d] viewed as [B, Hkv, n·T, d] multiplies each kv head once.
    const rep = this.numHeads / this.numKvHeads;
    const T = q.shape[2];
    const S = k.shape[2];
    const qMerged = mergeHeads(q);
    const out = ctx.site(sites.heads, qMerged, () => {
      const qg = rep === 1 ? q : tf.reshape(q, [B, this.numKvHeads, rep * T, this.headDim]);
      let scores = tf.matMul(qg, k, false, true);
      if (rep !== 1) scores = tf.reshape(scores, [B, this.numHeads, T, S]);
      if (this.scale !== 1) scores = tf.mul(scores, this.scale);
      if (bias) scores = tf.add(scores, bias);
      scores = tf.add(scores, m);
      let probs = tf.softmax(scores);
      probs = ctx.dropout(probs, this.dropoutRate);
      const pg = rep === 1 ? probs : tf.reshape(probs, [B, this.numKvHeads, rep * T, S]);
      const ctxv = tf.matMul(pg, v);
      return mergeHeads((rep === 1 ? ctxv : tf.reshape(ctxv, [B, this.numHeads, T, this.headDim])) as tf.Tensor4D);
    });
    return ctx.linear(sites.outProj, out, this.o) as tf.Tensor3D;
  }
}

/** Rows of a rotary table shared by all steps: its length is a power of two ≥ 64 covering `limit`. */
function sharedTables(rotary: Rotary, limit: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  let n = 64;
  while (n < limit) n *= 2;
  return rotary.tables(0, n);
}

/** Rotates x [B, H, T, d] with the rows offset … offset + T − 1 of the shared table. */
function rotaryFrom(rotary: Rotary, x: tf.Tensor4D, offset: number): tf.Tensor4D {
  const T = x.shape[2];
  const { cos, sin } = sharedTables(rotary, offset + T);
  return rotateWith(x, tf.slice(cos, [offset, 0], [T, -1]), tf.slice(sin, [offset, 0], [T, -1]));
}

/** Rotates x [B, H, T, d] with each row's own positions (cos/sin gathered to [B, 1, T, d]). */
function rotaryAt(rotary: Rotary, x: tf.Tensor4D, positions: TokenPositions): tf.Tensor4D {
  const [B, , T, d] = x.shape;
  const { cos, sin } = sharedTables(rotary, positions.limit);
  const ids = tf.reshape(positions.ids, [-1]);
  const pick = (table: tf.Tensor2D) => tf.reshape(tf.gather(table, ids), [B, 1, T, d]);
  return rotateWith(x, pick(cos), pick(sin));
}

/** x·cos + rotate_half(x)·sin (the tables broadcast against x). */
function rotateWith(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
  return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin)) as tf.Tensor4D;
}
