// What the encoder-decoder families (BART, mBART, T5) share: the sites of a layer in either stack,
// running a stack from token ids to its last hidden state (embedding sites, masks, layers, final
// norm, hidden states), the encoder-then-decoder pass (in generation: the encoder once, the
// decoder continuing its KV cache), the decoder-input shift of sequence classification, and
// pooling at the last eos token.
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../nn/context.js';
import { additiveMask } from '../nn/attention.js';
import { attentionSites, ffnSites, blockSite, type AttentionSiteKeys, type FfnSiteKeys } from './sites.js';
import { embeddingSite, defaultMask, pickPositions, selfKeyMask } from './common.js';
import type { ForwardCache, ModelInputs, ModelOutputs, SiteInfo } from './types.js';
import { PeftError } from '../../errors.js';
import { layerScope } from '../nn/layer-scope.js';

export type Stack = 'encoder' | 'decoder';
type ProjNames = { q: string; k: string; v: string; o: string };

export interface LayerSiteSpec {
  stack: Stack;
  layer: number;
  /** Path of the layer module (`model.decoder.layers.0`, `decoder.block.0`). */
  path: string;
  /** `norm`: post-LN families name the sublayer's LayerNorm (SiteInfo.norm). */
  selfAttn: { path: string; names: ProjNames; norm?: string };
  /** Decoder layers: the cross-attention over the encoder output. */
  crossAttn?: { path: string; names: ProjNames; norm?: string };
  /** `path` names the FFN's non-linear sites; up/down/gate are full projection paths. */
  ffn: { path: string; up: string; down: string; gate?: string; norm?: string };
  hidden: number;
  heads: number;
  headDim: number;
  intermediate: number;
}

export interface LayerKeys {
  self: AttentionSiteKeys;
  cross: AttentionSiteKeys | null;
  ffn: FfnSiteKeys;
  block: string;
}

/** Every unified-view site of one layer: self_attn.*, cross_attn.* (decoder), ffn.*, block.output. */
export function layerSites(s: LayerSiteSpec): { keys: LayerKeys; infos: SiteInfo[] } {
  const common = { stack: s.stack, layer: s.layer, hidden: s.hidden, heads: s.heads, kvHeads: s.heads, headDim: s.headDim };
  const self = attentionSites({ ...common, ...s.selfAttn, kind: 'self_attn' });
  const cross = s.crossAttn ? attentionSites({ ...common, ...s.crossAttn, kind: 'cross_attn' }) : null;
  const ff = ffnSites({ ...s.ffn, stack: s.stack, layer: s.layer, hidden: s.hidden, intermediate: s.intermediate });
  const block = blockSite(s.path, s.stack, s.layer, s.hidden);
  return {
    keys: { self: self.keys, cross: cross?.keys ?? null, ffn: ff.keys, block: block.path },
    infos: [...self.infos, ...(cross?.infos ?? []), ...ff.infos, block],
  };
}

/** What a layer reads besides its input. */
export interface LayerEnv {
  selfMask: tf.Tensor4D;
  /** T5's relative position bias of self-attention, as a function of the prefix length. */
  selfBias?: (prefix: number) => tf.Tensor;
  /** Decoder layers: the encoder output and the cross-attention mask [B, 1, T, S]. */
  encoder?: tf.Tensor3D;
  crossMask?: tf.Tensor4D;
  /** Generation: the decoder's KV cache (layers take their attentions' slots from it). */
  cache?: ForwardCache;
}

export interface Seq2SeqLayer {
  forward(x: tf.Tensor3D, ctx: ForwardContext, env: LayerEnv): tf.Tensor3D;
}

/** One stack as its family wires it. */
export interface StackParts {
  stack: Stack;
  /** Path of its embedding sites (`model.encoder.embeddings` → `.input`, `.output`). */
  embedPath: string;
  /** Word embeddings of the ids (scaled where the family scales them). */
  tokens(ids: tf.Tensor2D): tf.Tensor3D;
  /** After prompts were prepended: positions, LayerNorm, dropout. `offset` is the first position. */
  finish(e: tf.Tensor3D, ctx: ForwardContext, offset: number): tf.Tensor3D;
  layers: Seq2SeqLayer[];
  /** The stack's final norm (mBART's layer_norm, T5's final_layer_norm and dropout), if any. */
  finalNorm: ((x: tf.Tensor, ctx: ForwardContext) => tf.Tensor) | null;
  /**
   * T5: the self-attention bias for T queries after `past` cached positions (as a function of the
   * prefix length), made once per pass.
   */
  selfBias?(T: number, past: number, ctx: ForwardContext): (prefix: number) => tf.Tensor;
}

export interface StackOutput {
  last: tf.Tensor3D;
  states: tf.Tensor3D[];
  /** The key mask after prepended prompts [B, T']. */
  mask: tf.Tensor2D;
}

/** Runs one stack; with `cache` (the decoder in generation) it continues the positions the cache holds. */
export function runStack(
  parts: StackParts, ids: tf.Tensor2D, mask: tf.Tensor2D, ctx: ForwardContext,
  opts: { collect: boolean; offset: number; encoder?: StackOutput; cache?: ForwardCache },
): StackOutput {
  const B = ids.shape[0];
  const cache = opts.cache;
  const past = cache?.length ?? 0;
  const inp = embeddingSite(ctx, `${parts.embedPath}.input`, parts.tokens(ids), mask, past === 0);
  // after the embedding module (positions, LayerNorm): AdapterHub's prompts prepend here, unpositioned
  const emb = embeddingSite(ctx, `${parts.embedPath}.output`, parts.finish(inp.embeds, ctx, opts.offset + past) as tf.Tensor3D, inp.mask, past === 0);
  let x = emb.embeds;
  const T = x.shape[1];
  const enc = opts.encoder;
  const env: LayerEnv = {
    selfMask: additiveMask(selfKeyMask(cache, emb.mask), B, T, past + T, parts.stack === 'decoder'),
    selfBias: parts.selfBias?.(T, past, ctx),
    encoder: enc?.last,
    crossMask: enc ? additiveMask(enc.mask, B, T, enc.last.shape[1], false) : undefined,
    cache,
  };
  const states: tf.Tensor3D[] = opts.collect ? [x] : [];
  for (const layer of parts.layers) {
    x = layerScope(ctx, () => layer.forward(x, ctx, env));
    if (opts.collect) states.push(x);
  }
  if (parts.finalNorm) {
    x = parts.finalNorm(x, ctx) as tf.Tensor3D;
    if (opts.collect) states[states.length - 1] = x;
  }
  cache?.record({ keyMask: emb.mask, prepended: inp.prepended + emb.prepended });
  return { last: x, states, mask: emb.mask };
}

/**
 * The encoder on inputIds/attentionMask, then the decoder on decoderInputIds (causal; with
 * decoderAttentionMask when given). Python peft's prefix tuning shifts decoder positions only.
 * With a cache (generation) the encoder runs on the first pass only; later passes reuse its output.
 */
export function encodeDecode(
  encoder: StackParts, decoder: StackParts, inputs: ModelInputs, ctx: ForwardContext, collect: boolean, cache?: ForwardCache,
): { enc: StackOutput; dec: StackOutput } {
  const ids = inputs.inputIds;
  const dIds = inputs.decoderInputIds;
  const held = cache?.encoder ?? null;
  if ((!ids && !held) || !dIds) {
    throw new PeftError('DATA', 'an encoder-decoder model needs input ids and decoder input ids', {
      hint: 'seq2seq batches carry the source text and the target shifted right',
    });
  }
  const enc: StackOutput = held
    ? { last: held.last, states: [], mask: held.mask }
    : runStack(encoder, ids!, defaultMask(ids!, inputs.attentionMask), ctx, { collect, offset: 0 });
  if (cache && !held) cache.keepEncoder({ last: enc.last, mask: enc.mask });
  const dec = runStack(decoder, dIds, defaultMask(dIds, inputs.decoderAttentionMask), ctx, { collect, offset: ctx.positionOffset, encoder: enc, cache });
  return { enc, dec };
}

export function seq2seqOutputs(enc: StackOutput, dec: StackOutput, logits: tf.Tensor, collect: boolean): ModelOutputs {
  return {
    logits,
    lastHidden: dec.last,
    encoderLastHidden: enc.last,
    hiddenStates: collect ? dec.states : undefined,
    encoderHiddenStates: collect ? enc.states : undefined,
    decoderHiddenStates: collect ? dec.states : undefined,
    attentionMask: dec.mask,
  };
}

/**
 * Decoder inputs from the encoder's ids, as transformers does for sequence classification.
 * BART: [start, ids[0..T−2]]; mBART (`wrapLast`): the last real token (its language id) moves to
 * the front. Pads (and -100) become `pad`.
 */
export function shiftRight(ids: tf.Tensor2D, pad: number, start: number, wrapLast = false): tf.Tensor2D {
  const [B, T] = ids.shape;
  const src = ids.dataSync();
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const row = Array.from(src.slice(b * T, (b + 1) * T), (v) => (v === -100 ? pad : v));
    let first = start;
    if (wrapLast) {
      let last = T - 1;
      while (last > 0 && row[last] === pad) last--;
      first = row[last];
    }
    out[b * T] = first;
    for (let t = 1; t < T; t++) out[b * T + t] = row[t - 1];
  }
  return tf.tensor2d(out, [B, T], 'int32');
}

/** The hidden state at each row's last eos token (its last real token when it has none). */
export function eosPool(x: tf.Tensor3D, ids: tf.Tensor2D, mask: tf.Tensor2D, eos: number): tf.Tensor2D {
  const idx = tf.tidy(() => {
    const T = ids.shape[1];
    const t1 = tf.add(tf.range(0, T, 1, 'float32'), 1);
    const isEos = tf.cast(tf.equal(ids, eos), 'float32');
    // eos positions score above every real position, later ones above earlier ones
    const score = tf.add(tf.mul(isEos, tf.add(t1, T)), tf.mul(tf.cast(mask, 'float32'), t1));
    // prompts prepended to the sequence shift every position
    return tf.add(tf.argMax(score, 1), x.shape[1] - T) as tf.Tensor1D;
  });
  return pickPositions(x, idx);
}
