// Forward-pass blocks GPT-2, BART, mBART and T5 share: a residual sublayer in its pre-LN or
// post-LN arrangement with its unified-view sites, the plain (or gated) two-projection FFN, and
// learned absolute positions (a range of rows, or each row's own positions).
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../nn/context.js';
import type { Linear } from '../nn/linear.js';
import type { Embedding } from '../nn/embedding.js';
import type { TokenPositions } from '../nn/attention.js';
import type { Activation } from '../nn/activations.js';
import type { FfnSiteKeys } from './sites.js';
import type { ModelDims } from './types.js';
import { PeftError } from '../../errors.js';

export interface Norm {
  forward(x: tf.Tensor): tf.Tensor;
}

export interface SublayerSpec {
  /** pre-LN: x + f(LN(x)) (GPT-2, mBART, T5); post-LN: LN(x + f(x)) (BART). */
  preLn: boolean;
  norm: Norm;
  /** The sublayer's output site (h = f's output before the residual, x = f's input). */
  key: string;
  /** A site on f's input (`ffn.input`), if any. */
  inputKey?: string;
  /** Dropout on f's output before the residual (training only). */
  dropout: number;
}

export function sublayer(x: tf.Tensor3D, ctx: ForwardContext, s: SublayerSpec, f: (n: tf.Tensor) => tf.Tensor): tf.Tensor3D {
  let n: tf.Tensor = s.preLn ? s.norm.forward(x) : x;
  if (s.inputKey) n = ctx.site(s.inputKey, n, (u) => u);
  const h = ctx.dropout(ctx.site(s.key, n, f), s.dropout);
  const y = tf.add(x, h);
  return (s.preLn ? y : s.norm.forward(y)) as tf.Tensor3D;
}

export interface FfnParts {
  up: Linear;
  down: Linear;
  /** Gated FFN (T5 v1.1's wi_0): act(gate(x)) ⊙ up(x). */
  gate?: Linear;
  act: Activation;
  /** Dropout after the activation (BART's activation_dropout, T5's dropout_rate). */
  actDropout: number;
}

/** down(act(up(x))) with the sites ffn.up_proj, ffn.gate_proj, ffn.intermediate, ffn.down_proj. */
export function ffn(x: tf.Tensor, ctx: ForwardContext, k: FfnSiteKeys, p: FfnParts): tf.Tensor {
  const i = ctx.site(k.intermediate, x, (u) => {
    const up = ctx.linear(k.up, u, p.up);
    return p.gate ? tf.mul(p.act(ctx.linear(k.gate!, u, p.gate)), up) : p.act(up);
  });
  return ctx.linear(k.down, ctx.dropout(i, p.actDropout), p.down);
}

/**
 * Rows start … start+length−1 of a learned position table [1, length, D] (BART adds its offset 2
 * to `start`). The table has `table.num` rows; longer inputs are an error naming the limit.
 */
export function learnedPositions(table: Embedding, start: number, length: number, limitKey: string): tf.Tensor3D {
  if (start + length > table.num) {
    throw new PeftError('DATA', `sequence of ${length} tokens starting at position ${start} exceeds the ${table.num} learned positions`, {
      hint: `this backbone's ${limitKey} limits the length: lower data.max_length (or the prompt/prefix length)`,
    });
  }
  return tf.expandDims(tf.slice(table.weight.value, [start, 0], [length, -1]), 0) as tf.Tensor3D;
}

/** The rows of a learned position table at each row's own positions: [B, T, D]. */
export function learnedPositionsAt(table: Embedding, positions: TokenPositions, limitKey: string): tf.Tensor3D {
  if (positions.limit > table.num) {
    throw new PeftError('DATA', `position ${positions.limit - 1} exceeds the ${table.num} learned positions`, {
      hint: `this backbone's ${limitKey} limits the length: generate fewer tokens or use a shorter prompt`,
    });
  }
  return tf.gather(table.weight.value, positions.ids) as tf.Tensor3D;
}

/** The normalised dimensions alone (families keep extra fields beside them; reports print these). */
export function pickDims(d: ModelDims): ModelDims {
  const out: ModelDims = {
    hidden: d.hidden, layers: d.layers, heads: d.heads, kvHeads: d.kvHeads, headDim: d.headDim,
    intermediate: d.intermediate, vocab: d.vocab, maxPositions: d.maxPositions,
  };
  if (d.decoderLayers !== undefined) out.decoderLayers = d.decoderLayers;
  return out;
}
