// T5: a shared token embedding (no positions), pre-LN blocks with RMS-style T5LayerNorm, no
// biases, unscaled attention scores plus a learned relative-position bias (block 0 of each stack
// owns the table; every block of that stack uses it: bidirectional buckets in the encoder,
// one-sided in the decoder), a ReLU (or gated, T5 v1.1) FFN, a final norm per stack, and lm_head
// tied to `shared` with the decoder output scaled by d_model^-0.5. Names as transformers'
// T5ForConditionalGeneration.
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, ModuleList } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { RMSNorm } from '../nn/norm.js';
import { Attention } from '../nn/attention.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { embeddingSites } from './sites.js';
import { sublayer, ffn, pickDims, type FfnParts } from './blocks.js';
import { layerSites, encodeDecode, seq2seqOutputs, type LayerEnv, type LayerKeys, type Seq2SeqLayer, type Stack, type StackParts } from './seq2seq.js';
import { relativeBias } from './t5-relative.js';
import { ConfigReader } from './config.js';
import type { Family, ForwardRequest, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';

interface T5Dims extends ModelDims {
  buckets: number;
  maxDistance: number;
  eps: number;
  dropout: number;
  act: Activation;
  gated: boolean;
  tied: boolean;
}

function t5Dims(config: Record<string, unknown>): T5Dims {
  const c = new ConfigReader(config, 'config.json');
  const proj = c.str('feed_forward_proj', 'relu');
  const parts = proj.split('-');
  const gated = parts[0] === 'gated';
  if (parts.length > 2 || (parts.length === 2 && !gated)) {
    throw new PeftError('BACKBONE', `feed_forward_proj "${proj}" is not "<act>" or "gated-<act>"`, { where: 'config.json' });
  }
  const heads = c.int('num_heads');
  const layers = c.int('num_layers');
  return {
    hidden: c.int('d_model'), layers, decoderLayers: c.int('num_decoder_layers', layers), heads, kvHeads: heads,
    headDim: c.int('d_kv'), intermediate: c.int('d_ff'), vocab: c.int('vocab_size'), maxPositions: c.int('n_positions', 512),
    buckets: c.int('relative_attention_num_buckets', 32),
    maxDistance: c.int('relative_attention_max_distance', 128),
    eps: c.num('layer_norm_epsilon', 1e-6),
    dropout: c.num('dropout_rate', 0.1),
    act: activation(proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]),
    gated,
    tied: c.bool('tie_word_embeddings', true),
  };
}

/** T5Attention: no biases, no score scaling; block 0 also owns `relative_attention_bias`. */
class T5Attention extends Attention {
  readonly table: Embedding | null;
  constructor(d: T5Dims, withTable: boolean) {
    super({
      hidden: d.hidden, numHeads: d.heads, headDim: d.headDim, qkvBias: false, outBias: false, scale: 1, dropout: d.dropout,
      names: { q: 'q', k: 'k', v: 'v', o: 'o' },
    });
    this.table = withTable ? this.module('relative_attention_bias', new Embedding(d.buckets, d.heads)) : null;
  }
}

class DenseReluDense extends Module {
  readonly parts: FfnParts;
  constructor(d: T5Dims) {
    super();
    const lin = (i: number, o: number) => new Linear(i, o, { bias: false });
    const gate = d.gated ? this.module('wi_0', lin(d.hidden, d.intermediate)) : undefined;
    const up = this.module(d.gated ? 'wi_1' : 'wi', lin(d.hidden, d.intermediate));
    const down = this.module('wo', lin(d.intermediate, d.hidden));
    this.parts = { up, down, gate, act: d.act, actDropout: d.dropout };
  }
}

/** One `layer.{j}` entry: a sublayer and its layer_norm. */
class T5Sub<M extends Module> extends Module {
  readonly norm: RMSNorm;
  constructor(readonly name: string, readonly inner: M, d: T5Dims) {
    super();
    this.module(name, inner);
    this.norm = this.module('layer_norm', new RMSNorm(d.hidden, d.eps));
  }
}

class T5Block extends Module implements Seq2SeqLayer {
  readonly self: T5Sub<T5Attention>;
  readonly cross: T5Sub<T5Attention> | null;
  readonly ff: T5Sub<DenseReluDense>;
  constructor(readonly d: T5Dims, decoder: boolean, first: boolean, readonly keys: LayerKeys) {
    super();
    this.self = new T5Sub('SelfAttention', new T5Attention(d, first), d);
    this.cross = decoder ? new T5Sub('EncDecAttention', new T5Attention(d, false), d) : null;
    this.ff = new T5Sub('DenseReluDense', new DenseReluDense(d), d);
    this.module('layer', new ModuleList<Module>(this.cross ? [this.self, this.cross, this.ff] : [this.self, this.ff]));
  }

  forward(x: tf.Tensor3D, ctx: ForwardContext, env: LayerEnv): tf.Tensor3D {
    const k = this.keys;
    const dropout = this.d.dropout;
    return ctx.site(k.block, x, (x) => {
      let h = sublayer(x as tf.Tensor3D, ctx, { preLn: true, norm: this.self.norm, key: k.self.output, dropout },
        (n) => this.self.inner.forward(n as tf.Tensor3D, n as tf.Tensor3D, env.selfMask, ctx, k.self, {
          scoreBias: env.selfBias, cache: env.cache?.attention(k.self.heads, false),
        }));
      if (this.cross && k.cross) {
        const cross = this.cross.inner;
        const ck = k.cross;
        h = sublayer(h, ctx, { preLn: true, norm: this.cross.norm, key: ck.output, dropout },
          (n) => cross.forward(n as tf.Tensor3D, env.encoder!, env.crossMask!, ctx, ck, { cache: env.cache?.attention(ck.heads, true) }));
      }
      return sublayer(h, ctx, { preLn: true, norm: this.ff.norm, key: k.ffn.output, inputKey: k.ffn.input, dropout },
        (n) => ffn(n, ctx, k.ffn, this.ff.inner.parts));
    }) as tf.Tensor3D;
  }
}

/** `encoder` / `decoder`: blocks and final_layer_norm. */
class T5Stack extends Module {
  readonly blocks: T5Block[] = [];
  readonly norm: RMSNorm;
  constructor(readonly d: T5Dims, readonly stack: Stack, sites: SiteInfo[]) {
    super();
    const n = stack === 'encoder' ? d.layers : d.decoderLayers!;
    const ffIndex = stack === 'encoder' ? 1 : 2;
    for (let i = 0; i < n; i++) {
      const path = `${stack}.block.${i}`;
      const names = { q: 'q', k: 'k', v: 'v', o: 'o' };
      const ff = `${path}.layer.${ffIndex}.DenseReluDense`;
      const ls = layerSites({
        stack, layer: i, path, hidden: d.hidden, heads: d.heads, headDim: d.headDim, intermediate: d.intermediate,
        selfAttn: { path: `${path}.layer.0.SelfAttention`, names },
        crossAttn: stack === 'decoder' ? { path: `${path}.layer.1.EncDecAttention`, names } : undefined,
        ffn: { path: ff, up: d.gated ? `${ff}.wi_1` : `${ff}.wi`, down: `${ff}.wo`, gate: d.gated ? `${ff}.wi_0` : undefined },
      });
      sites.push(...ls.infos);
      this.blocks.push(new T5Block(d, stack === 'decoder', i === 0, ls.keys));
    }
    this.module('block', new ModuleList(this.blocks));
    this.norm = this.module('final_layer_norm', new RMSNorm(d.hidden, d.eps));
  }

  parts(shared: Embedding): StackParts {
    const d = this.d;
    const table = this.blocks[0]?.self.inner.table ?? null;
    return {
      stack: this.stack,
      embedPath: `${this.stack}.embeddings`,
      tokens: (ids) => shared.forward(ids) as tf.Tensor3D,
      finish: (e, ctx) => ctx.dropout(e, d.dropout) as tf.Tensor3D,
      layers: this.blocks,
      finalNorm: (x, ctx) => ctx.dropout(this.norm.forward(x), d.dropout),
      selfBias: table
        ? (T, past, ctx) => {
          const memo = new Map<number, tf.Tensor>();
          return (p) => {
            let b = memo.get(p);
            if (!b) memo.set(p, (b = ctx.forPass(relativeBias(table.weight.value, p + past, T, p + past + T, this.stack === 'encoder', d.buckets, d.maxDistance))));
            return b;
          };
        }
        : undefined,
    };
  }
}

function buildT5(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  if (opts.task !== 'seq2seq') {
    throw new PeftError('RECIPE', `task ${opts.task} is not supported on T5`, { hint: 'T5 supports seq2seq (cast classification as text-to-text)' });
  }
  const d = t5Dims(config);
  const root = new Container();
  const shared = root.add('shared', new Embedding(d.vocab, d.hidden));
  const sites: SiteInfo[] = [...embeddingSites('encoder.embeddings', 'encoder', d.hidden)];
  const encoder = root.add('encoder', new T5Stack(d, 'encoder', sites));
  sites.push(...embeddingSites('decoder.embeddings', 'decoder', d.hidden));
  const decoder = root.add('decoder', new T5Stack(d, 'decoder', sites));
  const tied: Record<string, string> = { 'encoder.embed_tokens.weight': 'shared.weight', 'decoder.embed_tokens.weight': 'shared.weight' };
  const lmHead = new Linear(d.hidden, d.vocab, { bias: false, tags: ['lm_head'] });
  if (d.tied) tied['lm_head.weight'] = 'shared.weight';
  else root.add('lm_head', lmHead);
  root.nameTree();
  const encParts = encoder.parts(shared);
  const decParts = decoder.parts(shared);

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: ForwardRequest = {}): ModelOutputs {
    const collect = req.hiddenStates ?? false;
    const { enc, dec } = encodeDecode(encParts, decParts, inputs, ctx, collect, req.cache);
    const logits = d.tied
      ? lmHead.forwardWith(tf.mul(dec.last, 1 / Math.sqrt(d.hidden)), shared.weight.value, null)
      : lmHead.forward(dec.last);
    return seq2seqOutputs(enc, dec, logits, collect);
  }

  return {
    family: 't5', architecture: 'T5ForConditionalGeneration', task: opts.task, config, dims: pickDims(d), root, sites,
    headPrefixes: [], tied, basePrefix: '', forward,
  };
}

export const t5Family: Family = {
  info: familyInfo('t5'),
  build: buildT5,
};
