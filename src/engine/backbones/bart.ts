// BART (and, through its variant switches, mBART): a shared token embedding tied to both stacks'
// embed_tokens and to lm_head, learned positions with offset 2, `layernorm_embedding`, post-LN
// layers (mBART: pre-LN plus a final `layer_norm` per stack), decoder cross-attention
// (`encoder_attn`), the `final_logits_bias` buffer added to the logits. Names as transformers'
// BartForConditionalGeneration / BartForSequenceClassification.
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, ModuleList } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Attention } from '../nn/attention.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import type { Param } from '../nn/module.js';
import { embeddingSites } from './sites.js';
import { sublayer, ffn, learnedPositions, pickDims } from './blocks.js';
import { layerSites, encodeDecode, seq2seqOutputs, shiftRight, eosPool, type LayerEnv, type LayerKeys, type Seq2SeqLayer, type Stack, type StackParts } from './seq2seq.js';
import { defaultMask, pool } from './common.js';
import { ConfigReader } from './config.js';
import type { Family, ForwardRequest, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';

/** What distinguishes mBART from BART. */
export interface BartVariant {
  family: string;
  /** Architecture class prefix: `Bart`, `MBart`. */
  classPrefix: string;
  /** Pre-LN layers and a final `layer_norm` after each stack. */
  preLn: boolean;
  /** Sequence classification's decoder inputs: mBART wraps the last token (its language id) to the front. */
  wrapShift: boolean;
}

interface StackDims {
  layers: number;
  heads: number;
  ffn: number;
}

interface BartDims extends ModelDims {
  enc: StackDims;
  dec: StackDims;
  act: Activation;
  embedScale: number;
  drop: { out: number; attn: number; act: number };
  pad: number;
  eos: number;
  start: number;
}

function bartDims(config: Record<string, unknown>): BartDims {
  const c = new ConfigReader(config, 'config.json');
  const hidden = c.int('d_model');
  const enc = { layers: c.int('encoder_layers'), heads: c.int('encoder_attention_heads'), ffn: c.int('encoder_ffn_dim') };
  const dec = { layers: c.int('decoder_layers'), heads: c.int('decoder_attention_heads'), ffn: c.int('decoder_ffn_dim') };
  return {
    hidden, layers: enc.layers, decoderLayers: dec.layers, heads: enc.heads, kvHeads: enc.heads, headDim: hidden / enc.heads,
    intermediate: enc.ffn, vocab: c.int('vocab_size'), maxPositions: c.int('max_position_embeddings'),
    enc, dec,
    act: activation(c.str('activation_function', 'gelu')),
    embedScale: c.bool('scale_embedding', false) ? Math.sqrt(hidden) : 1,
    drop: { out: c.num('dropout', 0.1), attn: c.num('attention_dropout', 0), act: c.num('activation_dropout', 0) },
    pad: c.int('pad_token_id', 1),
    eos: c.int('eos_token_id', 2),
    start: c.int('decoder_start_token_id', 2),
  };
}

class BartLayer extends Module implements Seq2SeqLayer {
  readonly selfAttn: Attention;
  readonly selfNorm: LayerNorm;
  readonly cross: Attention | null = null;
  readonly crossNorm: LayerNorm | null = null;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly finalNorm: LayerNorm;

  constructor(readonly d: BartDims, s: StackDims, decoder: boolean, readonly preLn: boolean, readonly keys: LayerKeys) {
    super();
    const attn = () => new Attention({
      hidden: d.hidden, numHeads: s.heads, qkvBias: true, outBias: true, dropout: d.drop.attn,
      names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'out_proj' },
    });
    this.selfAttn = this.module('self_attn', attn());
    this.selfNorm = this.module('self_attn_layer_norm', new LayerNorm(d.hidden, 1e-5));
    if (decoder) {
      this.cross = this.module('encoder_attn', attn());
      this.crossNorm = this.module('encoder_attn_layer_norm', new LayerNorm(d.hidden, 1e-5));
    }
    this.fc1 = this.module('fc1', new Linear(d.hidden, s.ffn));
    this.fc2 = this.module('fc2', new Linear(s.ffn, d.hidden));
    this.finalNorm = this.module('final_layer_norm', new LayerNorm(d.hidden, 1e-5));
  }

  forward(x: tf.Tensor3D, ctx: ForwardContext, env: LayerEnv): tf.Tensor3D {
    const k = this.keys;
    const { preLn, d } = this;
    return ctx.site(k.block, x, (x) => {
      let h = sublayer(x as tf.Tensor3D, ctx, { preLn, norm: this.selfNorm, key: k.self.output, dropout: d.drop.out },
        (n) => this.selfAttn.forward(n as tf.Tensor3D, n as tf.Tensor3D, env.selfMask, ctx, k.self, { cache: env.cache?.attention(k.self.heads, false) }));
      if (this.cross && k.cross) {
        const cross = this.cross;
        const ck = k.cross;
        h = sublayer(h, ctx, { preLn, norm: this.crossNorm!, key: ck.output, dropout: d.drop.out },
          (n) => cross.forward(n as tf.Tensor3D, env.encoder!, env.crossMask!, ctx, ck, { cache: env.cache?.attention(ck.heads, true) }));
      }
      const parts = { up: this.fc1, down: this.fc2, act: d.act, actDropout: d.drop.act };
      return sublayer(h, ctx, { preLn, norm: this.finalNorm, key: k.ffn.output, inputKey: k.ffn.input, dropout: d.drop.out },
        (n) => ffn(n, ctx, k.ffn, parts));
    }) as tf.Tensor3D;
  }
}

/** `model.encoder` / `model.decoder`: positions, layers, layernorm_embedding, (mBART) layer_norm. */
class BartStack extends Module {
  readonly positions: Embedding;
  readonly layers: BartLayer[];
  readonly embNorm: LayerNorm;
  readonly norm: LayerNorm | null;
  constructor(d: BartDims, stack: Stack, v: BartVariant, sites: SiteInfo[]) {
    super();
    const s = stack === 'encoder' ? d.enc : d.dec;
    this.positions = this.module('embed_positions', new Embedding(d.maxPositions + 2, d.hidden));
    this.layers = [];
    for (let i = 0; i < s.layers; i++) {
      const path = `model.${stack}.layers.${i}`;
      const names = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'out_proj' };
      // post-LN (BART): each sublayer site names the LayerNorm the layer applies after it
      const norm = (n: string) => (v.preLn ? undefined : `${path}.${n}`);
      const ls = layerSites({
        stack, layer: i, path, hidden: d.hidden, heads: s.heads, headDim: d.hidden / s.heads, intermediate: s.ffn,
        selfAttn: { path: `${path}.self_attn`, names, norm: norm('self_attn_layer_norm') },
        crossAttn: stack === 'decoder' ? { path: `${path}.encoder_attn`, names, norm: norm('encoder_attn_layer_norm') } : undefined,
        ffn: { path: `${path}.ffn`, up: `${path}.fc1`, down: `${path}.fc2`, norm: norm('final_layer_norm') },
      });
      sites.push(...ls.infos);
      this.layers.push(new BartLayer(d, s, stack === 'decoder', v.preLn, ls.keys));
    }
    this.module('layers', new ModuleList(this.layers));
    this.embNorm = this.module('layernorm_embedding', new LayerNorm(d.hidden, 1e-5));
    this.norm = v.preLn ? this.module('layer_norm', new LayerNorm(d.hidden, 1e-5)) : null;
  }

  parts(d: BartDims, stack: Stack, shared: Embedding): StackParts {
    return {
      stack,
      embedPath: `model.${stack}.embeddings`,
      tokens: (ids) => {
        const e = shared.forward(ids) as tf.Tensor3D;
        return d.embedScale === 1 ? e : (tf.mul(e, d.embedScale) as tf.Tensor3D);
      },
      finish: (e, ctx, offset) => {
        const x = tf.add(e, learnedPositions(this.positions, offset + 2, e.shape[1], 'max_position_embeddings'));
        return ctx.dropout(this.embNorm.forward(x), d.drop.out) as tf.Tensor3D;
      },
      layers: this.layers,
      finalNorm: this.norm ? (x) => this.norm!.forward(x) : null,
    };
  }
}

/** The root of BartForConditionalGeneration: holds the `final_logits_bias` buffer. */
class LmRoot extends Container {
  readonly finalLogitsBias: Param;
  constructor(vocab: number) {
    super();
    this.finalLogitsBias = this.buffer('final_logits_bias', [1, vocab]);
  }
}

class ClassificationHead extends Module {
  readonly dense: Linear;
  readonly outProj: Linear;
  constructor(d: number, labels: number, readonly dropout: number) {
    super();
    this.dense = this.module('dense', new Linear(d, d, { tags: ['head'] }));
    this.outProj = this.module('out_proj', new Linear(d, labels, { tags: ['head'] }));
  }

  forward(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const h = tf.tanh(this.dense.forward(ctx.dropout(x, this.dropout)));
    return this.outProj.forward(ctx.dropout(h, this.dropout));
  }
}

export function buildBartLike(config: Record<string, unknown>, opts: TaskOptions, v: BartVariant): TaskModel {
  const d = bartDims(config);
  const lm = opts.task === 'seq2seq';
  if (!lm && opts.task !== 'seq-cls' && opts.task !== 'regression') {
    throw new PeftError('RECIPE', `task ${opts.task} is not supported on ${v.classPrefix}`, {
      hint: `${v.classPrefix} supports seq2seq, seq-cls and regression`,
    });
  }
  const root = lm ? new LmRoot(d.vocab) : new Container();
  const model = root.add('model', new Container());
  const shared = model.add('shared', new Embedding(d.vocab, d.hidden));
  const sites: SiteInfo[] = [...embeddingSites('model.encoder.embeddings', 'encoder', d.hidden)];
  const encoder = model.add('encoder', new BartStack(d, 'encoder', v, sites));
  sites.push(...embeddingSites('model.decoder.embeddings', 'decoder', d.hidden));
  const decoder = model.add('decoder', new BartStack(d, 'decoder', v, sites));
  const tied: Record<string, string> = {
    'model.encoder.embed_tokens.weight': 'model.shared.weight',
    'model.decoder.embed_tokens.weight': 'model.shared.weight',
  };
  let head: ClassificationHead | null = null;
  if (lm) {
    tied['lm_head.weight'] = 'model.shared.weight';
  } else {
    const c = new ConfigReader(config, 'config.json');
    const labels = opts.task === 'regression' ? 1 : (opts.numLabels ?? 2);
    head = root.add('classification_head', new ClassificationHead(d.hidden, labels, c.num('classifier_dropout', 0)));
  }
  root.nameTree();
  const encParts = encoder.parts(d, 'encoder', shared);
  const decParts = decoder.parts(d, 'decoder', shared);
  const lmHead = new Linear(d.hidden, d.vocab, { bias: false, tags: ['lm_head'] });

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: ForwardRequest = {}): ModelOutputs {
    const collect = req.hiddenStates ?? false;
    if (lm) {
      const { enc, dec } = encodeDecode(encParts, decParts, inputs, ctx, collect, req.cache);
      const logits = tf.add(lmHead.forwardWith(dec.last, shared.weight.value, null), (root as LmRoot).finalLogitsBias.value);
      return seq2seqOutputs(enc, dec, logits, collect);
    }
    const ids = inputs.inputIds!;
    const withDec = { ...inputs, decoderInputIds: inputs.decoderInputIds ?? shiftRight(ids, d.pad, d.start, v.wrapShift) };
    const { enc, dec } = encodeDecode(encParts, decParts, withDec, ctx, collect);
    // decoder position t reads the shifted input up to t: the input's mask marks the real ones
    const mask = defaultMask(ids, inputs.attentionMask);
    const pooled = opts.pooling ? pool(dec.last, mask, opts.pooling) : eosPool(dec.last, ids, mask, d.eos);
    return { ...seq2seqOutputs(enc, dec, head!.forward(pooled, ctx), collect), pooled };
  }

  return {
    family: v.family,
    architecture: `${v.classPrefix}${lm ? 'ForConditionalGeneration' : 'ForSequenceClassification'}`,
    task: opts.task, config, dims: pickDims(d), root, sites, headPrefixes: head ? ['classification_head'] : [], tied,
    basePrefix: 'model', forward,
  };
}

export const bartFamily: Family = {
  info: familyInfo('bart'),
  build: (config, opts) => buildBartLike(config, opts, { family: 'bart', classPrefix: 'Bart', preLn: false, wrapShift: false }),
};
