// GPT-2: learned positions, pre-LN blocks, one fused q/k/v projection (`c_attn`, a Conv1D stored
// [in, out]), gelu_new FFN, final `ln_f`, lm_head tied to `wte`. Names as transformers'
// GPT2LMHeadModel / GPT2ForSequenceClassification / GPT2ForTokenClassification.
// Sites: `self_attn.qkv` is the fused projection (where Python peft's LoRA and IA³ go);
// `self_attn.query/key/value` are its three slices (additive functions only: no weight of their own).
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, ModuleList } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Attention, additiveMask, type AttentionCache } from '../nn/attention.js';
import { activation, type Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { attentionSites, ffnSites, blockSite, embeddingSites, type AttentionSiteKeys, type FfnSiteKeys } from './sites.js';
import { embeddingSite, defaultMask, pool, selfKeyMask, tokenPositions } from './common.js';
import { sublayer, ffn, learnedPositions, learnedPositionsAt, pickDims } from './blocks.js';
import { ConfigReader } from './config.js';
import type { Family, ForwardRequest, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';
import { layerScope } from '../nn/layer-scope.js';

interface Gpt2Dims extends ModelDims {
  eps: number;
  act: Activation;
  /** Score scale of each layer (1/√d, divided by layer+1 with scale_attn_by_inverse_layer_idx). */
  scales: number[];
  drop: { attn: number; resid: number; embd: number };
}

interface Gpt2Keys {
  qkv: string;
  attn: AttentionSiteKeys;
  ffn: FfnSiteKeys;
  block: string;
}

class Gpt2Attention extends Module {
  readonly cAttn: Linear;
  readonly cProj: Linear;
  readonly core: Attention;
  constructor(d: Gpt2Dims, scale: number) {
    super();
    this.cAttn = this.module('c_attn', new Linear(d.hidden, 3 * d.hidden, { layout: 'in_out' }));
    this.cProj = this.module('c_proj', new Linear(d.hidden, d.hidden, { layout: 'in_out' }));
    // the core only computes (its projections are the fused ones above, registered here)
    this.core = new Attention(
      { hidden: d.hidden, numHeads: d.heads, qkvBias: true, outBias: true, names: { q: '', k: '', v: '', o: '' }, scale, dropout: d.drop.attn },
      { q: this.cAttn, k: this.cAttn, v: this.cAttn, o: this.cProj },
    );
  }

  forward(x: tf.Tensor3D, mask: tf.Tensor4D, ctx: ForwardContext, k: Gpt2Keys, cache?: AttentionCache): tf.Tensor {
    const D = x.shape[2];
    const qkv = ctx.linear(k.qkv, x, this.cAttn);
    const part = (key: string, i: number) => ctx.site(key, x, () => tf.slice(qkv, [0, 0, i * D], [-1, -1, D]));
    return this.core.attend(part(k.attn.query, 0), part(k.attn.key, 1), part(k.attn.value, 2), mask, ctx, k.attn, { cache });
  }
}

class Gpt2Mlp extends Module {
  readonly cFc: Linear;
  readonly cProj: Linear;
  constructor(d: number, m: number) {
    super();
    this.cFc = this.module('c_fc', new Linear(d, m, { layout: 'in_out' }));
    this.cProj = this.module('c_proj', new Linear(m, d, { layout: 'in_out' }));
  }
}

class Gpt2Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: Gpt2Attention;
  readonly ln2: LayerNorm;
  readonly mlp: Gpt2Mlp;
  constructor(readonly d: Gpt2Dims, layer: number, readonly keys: Gpt2Keys) {
    super();
    this.ln1 = this.module('ln_1', new LayerNorm(d.hidden, d.eps));
    this.attn = this.module('attn', new Gpt2Attention(d, d.scales[layer]));
    this.ln2 = this.module('ln_2', new LayerNorm(d.hidden, d.eps));
    this.mlp = this.module('mlp', new Gpt2Mlp(d.hidden, d.intermediate));
  }

  forward(x: tf.Tensor3D, mask: tf.Tensor4D, ctx: ForwardContext, cache?: AttentionCache): tf.Tensor3D {
    const k = this.keys;
    const mlp = { up: this.mlp.cFc, down: this.mlp.cProj, act: this.d.act, actDropout: 0 };
    return ctx.site(k.block, x, (x) => {
      const h = sublayer(x as tf.Tensor3D, ctx, { preLn: true, norm: this.ln1, key: k.attn.output, dropout: this.d.drop.resid },
        (n) => this.attn.forward(n as tf.Tensor3D, mask, ctx, k, cache));
      return sublayer(h, ctx, { preLn: true, norm: this.ln2, key: k.ffn.output, inputKey: k.ffn.input, dropout: this.d.drop.resid },
        (n) => ffn(n, ctx, k.ffn, mlp));
    }) as tf.Tensor3D;
  }
}

export function gpt2Dims(config: Record<string, unknown>): Gpt2Dims {
  const c = new ConfigReader(config, 'config.json');
  const hidden = c.int('n_embd');
  const heads = c.int('n_head');
  const layers = c.int('n_layer');
  const base = c.bool('scale_attn_weights', true) ? 1 / Math.sqrt(hidden / heads) : 1;
  const byLayer = c.bool('scale_attn_by_inverse_layer_idx', false);
  return {
    hidden, layers, heads, kvHeads: heads, headDim: hidden / heads,
    intermediate: c.int('n_inner', 4 * hidden),
    vocab: c.int('vocab_size'),
    maxPositions: c.int('n_positions'),
    eps: c.num('layer_norm_epsilon', 1e-5),
    act: activation(c.str('activation_function', 'gelu_new')),
    scales: Array.from({ length: layers }, (_, i) => (byLayer ? base / (i + 1) : base)),
    drop: { attn: c.num('attn_pdrop', 0.1), resid: c.num('resid_pdrop', 0.1), embd: c.num('embd_pdrop', 0.1) },
  };
}

/** Sites of block i: the fused projection, its slices as q/k/v, heads, c_proj, the FFN, the block. */
function blockSites(d: Gpt2Dims, i: number): { keys: Gpt2Keys; infos: SiteInfo[] } {
  const path = `transformer.h.${i}`;
  const at = attentionSites({
    path: `${path}.attn`, names: { q: 'query', k: 'key', v: 'value', o: 'c_proj' }, kind: 'self_attn',
    stack: 'model', layer: i, hidden: d.hidden, heads: d.heads, kvHeads: d.heads, headDim: d.headDim,
  });
  const qkv = `${path}.attn.c_attn`;
  const slices = new Set([at.keys.query, at.keys.key, at.keys.value]);
  const attnInfos: SiteInfo[] = [
    { path: qkv, stack: 'model', layer: i, position: 'self_attn.qkv', kind: 'linear', inDim: d.hidden, outDim: 3 * d.hidden },
    ...at.infos.map((s): SiteInfo => (slices.has(s.path) ? { ...s, kind: 'activation' } : s)),
  ];
  const ff = ffnSites({
    path: `${path}.mlp`, up: `${path}.mlp.c_fc`, down: `${path}.mlp.c_proj`,
    stack: 'model', layer: i, hidden: d.hidden, intermediate: d.intermediate,
  });
  const block = blockSite(path, 'model', i, d.hidden);
  return { keys: { qkv, attn: at.keys, ffn: ff.keys, block: block.path }, infos: [...attnInfos, ...ff.infos, block] };
}

function buildGpt2(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  const d = gpt2Dims(config);
  const root = new Container();
  const tr = root.add('transformer', new Container());
  const wte = tr.add('wte', new Embedding(d.vocab, d.hidden));
  const wpe = tr.add('wpe', new Embedding(d.maxPositions, d.hidden));
  const sites: SiteInfo[] = [...embeddingSites('transformer.embeddings', 'model', d.hidden)];
  const blocks: Gpt2Block[] = [];
  for (let i = 0; i < d.layers; i++) {
    const s = blockSites(d, i);
    sites.push(...s.infos);
    blocks.push(new Gpt2Block(d, i, s.keys));
  }
  tr.add('h', new ModuleList(blocks));
  const lnF = tr.add('ln_f', new LayerNorm(d.hidden, d.eps));

  const tied: Record<string, string> = {};
  let head: Linear;
  let headPrefixes: string[] = [];
  let architecture: string;
  let headDropout = 0;
  const numLabels = opts.task === 'regression' ? 1 : (opts.numLabels ?? 2);
  if (opts.task === 'causal-lm') {
    architecture = 'GPT2LMHeadModel';
    head = new Linear(d.hidden, d.vocab, { bias: false, tags: ['lm_head'] });
    tied['lm_head.weight'] = 'transformer.wte.weight';
  } else if (opts.task === 'seq-cls' || opts.task === 'regression') {
    architecture = 'GPT2ForSequenceClassification';
    head = root.add('score', new Linear(d.hidden, numLabels, { bias: false, tags: ['head'] }));
    headPrefixes = ['score'];
  } else if (opts.task === 'token-cls') {
    architecture = 'GPT2ForTokenClassification';
    head = root.add('classifier', new Linear(d.hidden, numLabels, { tags: ['head'] }));
    headPrefixes = ['classifier'];
    const c = new ConfigReader(config, 'config.json');
    headDropout = c.optNum('classifier_dropout') ?? c.optNum('hidden_dropout') ?? 0.1;
  } else {
    throw new PeftError('RECIPE', `task ${opts.task} is not supported on GPT-2`, { hint: 'GPT-2 supports causal-lm, seq-cls, regression and token-cls' });
  }
  root.nameTree();
  const pooling = opts.pooling ?? 'last';

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: ForwardRequest = {}): ModelOutputs {
    const ids = inputs.inputIds!;
    const B = ids.shape[0];
    const cache = req.cache;
    const past = cache?.length ?? 0;
    const emb = embeddingSite(ctx, 'transformer.embeddings.input', wte.forward(ids) as tf.Tensor3D, defaultMask(ids, inputs.attentionMask), past === 0);
    const T = emb.embeds.shape[1];
    const positions = tokenPositions(inputs.positionIds, emb.prepended, cache, ctx.positionOffset);
    const pos = positions
      ? learnedPositionsAt(wpe, positions, 'n_positions')
      : learnedPositions(wpe, ctx.positionOffset + past, T, 'n_positions');
    const withPos = tf.add(emb.embeds, pos);
    // after the embedding module: AdapterHub-style prompts prepend here, without positions
    const out = embeddingSite(ctx, 'transformer.embeddings.output', ctx.dropout(withPos, d.drop.embd) as tf.Tensor3D, emb.mask, past === 0);
    let x = out.embeds;
    const mask4 = additiveMask(selfKeyMask(cache, out.mask), B, x.shape[1], past + x.shape[1], true);
    const hiddenStates: tf.Tensor3D[] = req.hiddenStates ? [x] : [];
    for (const block of blocks) {
      x = layerScope(ctx, () => block.forward(x, mask4, ctx, cache?.attention(block.keys.attn.heads, false)));
      if (req.hiddenStates) hiddenStates.push(x);
    }
    cache?.record({ keyMask: out.mask, prepended: emb.prepended + out.prepended });
    x = lnF.forward(x) as tf.Tensor3D;
    if (req.hiddenStates) hiddenStates[hiddenStates.length - 1] = x;
    let logits: tf.Tensor;
    if (opts.task === 'causal-lm') logits = head.forwardWith(x, wte.weight.value, null);
    else if (opts.task === 'token-cls') logits = head.forward(ctx.dropout(x, headDropout));
    else logits = head.forward(pool(x, out.mask, pooling));
    return { logits, lastHidden: x, hiddenStates: req.hiddenStates ? hiddenStates : undefined, attentionMask: out.mask };
  }

  return {
    family: 'gpt2', architecture, task: opts.task, config, dims: pickDims(d), root, sites, headPrefixes, tied,
    basePrefix: 'transformer', forward,
  };
}

export const gpt2Family: Family = {
  info: familyInfo('gpt2'),
  build: buildGpt2,
};
