// LLaMA (and LLaMA-2/3-style decoders): RMSNorm, rotary embeddings, grouped-query attention,
// SwiGLU FFN, optionally tied embeddings. Names as transformers' LlamaForCausalLM /
// LlamaForSequenceClassification.
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, ModuleList } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { RMSNorm } from '../nn/norm.js';
import { Rotary } from '../nn/rotary.js';
import { Attention, additiveMask, type AttendOptions } from '../nn/attention.js';
import { activation, silu, type Activation } from '../nn/activations.js';
import { swiglu } from '../backend/fused/index.js';
import type { ForwardContext } from '../nn/context.js';
import { attentionSites, ffnSites, blockSite, embeddingSites, type AttentionSiteKeys, type FfnSiteKeys } from './sites.js';
import { embeddingSite, defaultMask, pool, selfKeyMask, tokenPositions } from './common.js';
import { ConfigReader } from './config.js';
import type { Family, ForwardRequest, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';
import { layerScope } from '../nn/layer-scope.js';

class LlamaMlp extends Module {
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;
  constructor(d: number, m: number, bias: boolean, readonly act: Activation) {
    super();
    this.gate = this.module('gate_proj', new Linear(d, m, { bias }));
    this.up = this.module('up_proj', new Linear(d, m, { bias }));
    this.down = this.module('down_proj', new Linear(m, d, { bias }));
  }

  forward(x: tf.Tensor, ctx: ForwardContext, k: FfnSiteKeys): tf.Tensor {
    const i = ctx.site(k.intermediate, x, (x) => {
      const g = ctx.linear(k.gate!, x, this.gate);
      const u = ctx.linear(k.up, x, this.up);
      // silu(g)·u is one fused op (one kernel each way on native)
      return this.act === silu ? swiglu(g, u) : tf.mul(this.act(g), u);
    });
    return ctx.linear(k.down, i, this.down);
  }
}

class LlamaLayer extends Module {
  readonly attn: Attention;
  readonly mlp: LlamaMlp;
  readonly inNorm: RMSNorm;
  readonly postNorm: RMSNorm;
  constructor(
    readonly dims: ModelDims,
    eps: number,
    attnBias: boolean,
    mlpBias: boolean,
    act: Activation,
    readonly attnKeys: AttentionSiteKeys,
    readonly ffnKeys: FfnSiteKeys,
    readonly blockKey: string,
  ) {
    super();
    this.attn = this.module('self_attn', new Attention({
      hidden: dims.hidden, numHeads: dims.heads, numKvHeads: dims.kvHeads, headDim: dims.headDim,
      qkvBias: attnBias, outBias: attnBias, names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj' },
    }));
    this.mlp = this.module('mlp', new LlamaMlp(dims.hidden, dims.intermediate, mlpBias, act));
    this.inNorm = this.module('input_layernorm', new RMSNorm(dims.hidden, eps));
    this.postNorm = this.module('post_attention_layernorm', new RMSNorm(dims.hidden, eps));
  }

  /** `attend`: rotary and the positions of x's tokens, and the layer's cache slot when generating. */
  forward(x: tf.Tensor3D, mask: tf.Tensor4D, ctx: ForwardContext, attend: AttendOptions): tf.Tensor3D {
    const a = this.attnKeys;
    const f = this.ffnKeys;
    return ctx.site(this.blockKey, x, (x) => {
      const h = this.inNorm.forward(x) as tf.Tensor3D;
      const attnOut = ctx.site(a.output, h, (h) =>
        this.attn.forward(h as tf.Tensor3D, h as tf.Tensor3D, mask, ctx, a, attend));
      const x1 = tf.add(x, attnOut);
      const h2 = ctx.site(f.input, this.postNorm.forward(x1), (h) => h);
      const ffnOut = ctx.site(f.output, h2, (h) => this.mlp.forward(h, ctx, f));
      return tf.add(x1, ffnOut);
    }) as tf.Tensor3D;
  }
}

export function llamaDims(config: Record<string, unknown>): ModelDims & { eps: number; theta: number; tied: boolean } {
  const c = new ConfigReader(config, 'config.json');
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  return {
    hidden,
    layers: c.int('num_hidden_layers'),
    heads,
    kvHeads: c.int('num_key_value_heads', heads),
    headDim: c.int('head_dim', hidden / heads),
    intermediate: c.int('intermediate_size'),
    vocab: c.int('vocab_size'),
    maxPositions: c.int('max_position_embeddings', 2048),
    eps: c.num('rms_norm_eps', 1e-6),
    theta: c.num('rope_theta', 10000),
    tied: c.bool('tie_word_embeddings', false),
  };
}

function buildLlama(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  const d = llamaDims(config);
  const c = new ConfigReader(config, 'config.json');
  if (c.raw.rope_scaling) {
    throw new PeftError('BACKBONE', 'rope_scaling is not supported yet', { where: 'config.json', hint: 'use a checkpoint without rope_scaling' });
  }
  const act = activation(c.str('hidden_act', 'silu'));
  const attnBias = c.bool('attention_bias', false);
  const mlpBias = c.bool('mlp_bias', false);

  const root = new Container();
  const model = root.add('model', new Container());
  const embed = model.add('embed_tokens', new Embedding(d.vocab, d.hidden));
  const sites: SiteInfo[] = [...embeddingSites('model.embeddings', 'model', d.hidden)];
  const layers: LlamaLayer[] = [];
  for (let i = 0; i < d.layers; i++) {
    const path = `model.layers.${i}`;
    const at = attentionSites({
      path: `${path}.self_attn`, names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj' }, kind: 'self_attn',
      stack: 'model', layer: i, hidden: d.hidden, heads: d.heads, kvHeads: d.kvHeads, headDim: d.headDim,
    });
    const ff = ffnSites({
      path: `${path}.mlp`, up: `${path}.mlp.up_proj`, gate: `${path}.mlp.gate_proj`, down: `${path}.mlp.down_proj`,
      stack: 'model', layer: i, hidden: d.hidden, intermediate: d.intermediate,
    });
    const block = blockSite(path, 'model', i, d.hidden);
    sites.push(...at.infos, ...ff.infos, block);
    layers.push(new LlamaLayer(d, d.eps, attnBias, mlpBias, act, at.keys, ff.keys, block.path));
  }
  model.add('layers', new ModuleList(layers));
  const norm = model.add('norm', new RMSNorm(d.hidden, d.eps));
  const rotary = new Rotary(d.headDim, d.theta);

  const tied: Record<string, string> = {};
  let head: Linear;
  let headPrefixes: string[];
  let architecture: string;
  if (opts.task === 'causal-lm') {
    architecture = 'LlamaForCausalLM';
    head = new Linear(d.hidden, d.vocab, { bias: false, tags: ['lm_head'] });
    if (d.tied) tied['lm_head.weight'] = 'model.embed_tokens.weight';
    else root.add('lm_head', head);
    headPrefixes = [];
  } else if (opts.task === 'seq-cls' || opts.task === 'regression') {
    architecture = 'LlamaForSequenceClassification';
    head = root.add('score', new Linear(d.hidden, opts.task === 'regression' ? 1 : (opts.numLabels ?? 2), { bias: false, tags: ['head'] }));
    headPrefixes = ['score'];
  } else {
    throw new PeftError('RECIPE', `task ${opts.task} is not supported on LLaMA`, { hint: 'LLaMA supports causal-lm, seq-cls and regression' });
  }
  root.nameTree();
  const pooling = opts.pooling ?? 'last';

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: ForwardRequest = {}): ModelOutputs {
    const ids = inputs.inputIds!;
    const B = ids.shape[0];
    const cache = req.cache;
    const past = cache?.length ?? 0;
    const inp = embeddingSite(ctx, 'model.embeddings.input', embed.forward(ids) as tf.Tensor3D, defaultMask(ids, inputs.attentionMask), past === 0);
    // LLaMA's embedding module is the lookup alone: what goes after it (embeddings.output) sees the same sequence
    const emb = embeddingSite(ctx, 'model.embeddings.output', inp.embeds, inp.mask, past === 0);
    let x = emb.embeds;
    const T = x.shape[1];
    const mask4 = additiveMask(selfKeyMask(cache, emb.mask), B, T, past + T, true);
    const positions = tokenPositions(inputs.positionIds, inp.prepended + emb.prepended, cache, ctx.positionOffset) ?? undefined;
    const hiddenStates: tf.Tensor3D[] = req.hiddenStates ? [x] : [];
    for (const layer of layers) {
      const slot = cache?.attention(layer.attnKeys.heads, false);
      x = layerScope(ctx, () => layer.forward(x, mask4, ctx, { rotary, positionOffset: ctx.positionOffset + past, positions, cache: slot }));
      if (req.hiddenStates) hiddenStates.push(x);
    }
    cache?.record({ keyMask: emb.mask, prepended: inp.prepended + emb.prepended });
    x = norm.forward(x) as tf.Tensor3D;
    if (req.hiddenStates) hiddenStates[hiddenStates.length - 1] = x;
    let logits: tf.Tensor;
    let pooled: tf.Tensor2D | undefined;
    if (opts.task === 'causal-lm') {
      logits = d.tied ? head.forwardWith(x, embed.weight.value, null) : head.forward(x);
    } else {
      pooled = pool(x, emb.mask, pooling);
      logits = head.forward(pooled);
    }
    return { logits, lastHidden: x, hiddenStates: req.hiddenStates ? hiddenStates : undefined, pooled, attentionMask: emb.mask };
  }

  return {
    family: 'llama', architecture, task: opts.task, config, dims: d, root, sites, headPrefixes, tied,
    basePrefix: 'model', forward,
  };
}

export const llamaFamily: Family = {
  info: familyInfo('llama'),
  build: buildLlama,
};
