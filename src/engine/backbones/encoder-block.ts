// The BERT-style encoder shared by BERT, RoBERTa, DistilBERT and ViT: a layer of self-attention
// and a two-projection FFN, each with a residual and a LayerNorm applied after the add (post-LN:
// BERT, RoBERTa, DistilBERT) or before the sublayer (pre-LN: ViT), and the word + position
// (+ token type) embeddings. A family file names the parameters; this file wires them and calls
// the unified-view sites.
import * as tf from '@tensorflow/tfjs-core';
import { Container, type Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/norm.js';
import { Attention } from '../nn/attention.js';
import type { Activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { attentionSites, blockSite, ffnSites, type AttentionSiteKeys, type FfnSiteKeys } from './sites.js';
import { embeddingSite } from './common.js';
import type { SiteInfo, TaskOptions } from './types.js';
import type { TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { layerScope } from '../nn/layer-scope.js';

/** Places modules at dotted paths under a root, creating the plain containers in between. */
export class Tree {
  private readonly made = new Map<string, Container>();
  constructor(readonly root: Container) {
    this.made.set('', root);
  }

  container(path: string): Container {
    const hit = this.made.get(path);
    if (hit) return hit;
    const cut = path.lastIndexOf('.');
    const c = this.container(cut < 0 ? '' : path.slice(0, cut)).add(path.slice(cut + 1), new Container());
    this.made.set(path, c);
    return c;
  }

  add<M extends Module>(path: string, m: M): M {
    const cut = path.lastIndexOf('.');
    return this.container(cut < 0 ? '' : path.slice(0, cut)).add(path.slice(cut + 1), m);
  }
}

/** Module paths inside one layer, relative to it (`attention.self`, `attention.output.dense`, …). */
export interface EncoderLayerNames {
  /** The attention module, and its q/k/v projections inside it. */
  attn: string;
  q: string;
  k: string;
  v: string;
  /** The attention's output projection. */
  o: string;
  /** The attention sublayer's LayerNorm (post-LN: after the add; pre-LN: before the attention). */
  attnNorm: string;
  up: string;
  down: string;
  /** The FFN sublayer's LayerNorm. */
  ffnNorm: string;
}

export interface EncoderSpec {
  /** Path of the layer list (`bert.encoder.layer`). */
  prefix: string;
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  eps: number;
  act: Activation;
  norm: 'post' | 'pre';
  /** Biases on the query/key/value projections (ViT's `qkv_bias`; BERT-style layers have them). */
  qkvBias: boolean;
  attnDropout: number;
  hiddenDropout: number;
  /** Dropout on the attention output projection (BERT, ViT yes; DistilBERT no). */
  dropoutAfterAttention: boolean;
  names: EncoderLayerNames;
  /** The stack its sites belong to (default `model`; CLIP's towers: `text`, `vision`). */
  stack?: SiteInfo['stack'];
}

/**
 * One encoder layer. Sites, with x the layer input:
 * - `self_attn.output`: h = the attention sublayer's output (after its output projection and
 *   dropout), before the residual add and any LayerNorm; x = the attention's input (post-LN: the
 *   layer input; pre-LN: the normalised layer input).
 * - `ffn.input`: the FFN's input (post-LN: the attention block's output; pre-LN: its normalised
 *   form). The residual around the FFN bypasses modifications made here.
 * - `ffn.output`: h = the FFN output after its second projection and dropout, before the residual
 *   add and any LayerNorm; x = the FFN's input.
 * - `block.output`: the layer's output (post-LN: after the FFN sublayer's LayerNorm).
 */
export class EncoderLayer extends Container {
  readonly attn: Attention;
  readonly attnNorm: LayerNorm;
  readonly ffnNorm: LayerNorm;
  readonly up: Linear;
  readonly down: Linear;

  constructor(
    readonly spec: EncoderSpec,
    readonly attnKeys: AttentionSiteKeys,
    readonly ffnKeys: FfnSiteKeys,
    readonly blockKey: string,
  ) {
    super();
    const { hidden: d, intermediate: m, names: n } = spec;
    const tree = new Tree(this);
    const linears = {
      q: tree.add(`${n.attn}.${n.q}`, new Linear(d, d, { bias: spec.qkvBias })),
      k: tree.add(`${n.attn}.${n.k}`, new Linear(d, d, { bias: spec.qkvBias })),
      v: tree.add(`${n.attn}.${n.v}`, new Linear(d, d, { bias: spec.qkvBias })),
      o: tree.add(n.o, new Linear(d, d)),
    };
    this.attnNorm = tree.add(n.attnNorm, new LayerNorm(d, spec.eps));
    this.up = tree.add(n.up, new Linear(d, m));
    this.down = tree.add(n.down, new Linear(m, d));
    this.ffnNorm = tree.add(n.ffnNorm, new LayerNorm(d, spec.eps));
    // the attention only computes: its projections live at the paths above
    this.attn = new Attention({
      hidden: d, numHeads: spec.heads, qkvBias: spec.qkvBias, outBias: true, dropout: spec.attnDropout,
      names: { q: n.q, k: n.k, v: n.v, o: n.o },
    }, linears);
  }

  forward(x: tf.Tensor3D, mask: tf.Tensor4D, ctx: ForwardContext): tf.Tensor3D {
    return ctx.site(this.blockKey, x, (x) => (this.spec.norm === 'post' ? this.postLn(x, mask, ctx) : this.preLn(x, mask, ctx))) as tf.Tensor3D;
  }

  private postLn(x: tf.Tensor, mask: tf.Tensor4D, ctx: ForwardContext): tf.Tensor {
    const f = this.ffnKeys;
    const attnOut = ctx.site(this.attnKeys.output, x, (x) => this.attention(x, mask, ctx));
    const x1 = this.attnNorm.forward(tf.add(x, attnOut));
    const h = ctx.site(f.input, x1, (h) => h);
    const ffnOut = ctx.site(f.output, h, (h) => this.ffn(h, ctx));
    return this.ffnNorm.forward(tf.add(x1, ffnOut));
  }

  private preLn(x: tf.Tensor, mask: tf.Tensor4D, ctx: ForwardContext): tf.Tensor {
    const f = this.ffnKeys;
    const attnOut = ctx.site(this.attnKeys.output, this.attnNorm.forward(x), (h) => this.attention(h, mask, ctx));
    const x1 = tf.add(x, attnOut);
    const h = ctx.site(f.input, this.ffnNorm.forward(x1), (h) => h);
    const ffnOut = ctx.site(f.output, h, (h) => this.ffn(h, ctx));
    return tf.add(x1, ffnOut);
  }

  private attention(x: tf.Tensor, mask: tf.Tensor4D, ctx: ForwardContext): tf.Tensor {
    const out = this.attn.forward(x as tf.Tensor3D, x as tf.Tensor3D, mask, ctx, this.attnKeys);
    return this.spec.dropoutAfterAttention ? ctx.dropout(out, this.spec.hiddenDropout) : out;
  }

  private ffn(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    const f = this.ffnKeys;
    const i = ctx.site(f.intermediate, x, (x) => this.spec.act(ctx.linear(f.up, x, this.up)));
    return ctx.dropout(ctx.linear(f.down, i, this.down), this.spec.hiddenDropout);
  }
}

/** Builds the layers at `<prefix>.<i>` under the tree, with the sites of each. */
export function buildEncoder(tree: Tree, spec: EncoderSpec): { layers: EncoderLayer[]; sites: SiteInfo[] } {
  const n = spec.names;
  const headDim = spec.hidden / spec.heads;
  if (!Number.isInteger(headDim)) {
    throw new PeftError('BACKBONE', `hidden size ${spec.hidden} is not a multiple of the ${spec.heads} attention heads`, { where: 'config.json' });
  }
  const layers: EncoderLayer[] = [];
  const sites: SiteInfo[] = [];
  for (let i = 0; i < spec.layers; i++) {
    const path = `${spec.prefix}.${i}`;
    const at = attentionSites({
      path: `${path}.${n.attn}`, names: { q: n.q, k: n.k, v: n.v, o: n.o }, outPath: `${path}.${n.o}`, kind: 'self_attn',
      stack: spec.stack ?? 'model', layer: i, hidden: spec.hidden, heads: spec.heads, kvHeads: spec.heads, headDim,
      norm: spec.norm === 'post' ? `${path}.${n.attnNorm}` : undefined,
    });
    const ff = ffnSites({
      path: `${path}.ffn`, up: `${path}.${n.up}`, down: `${path}.${n.down}`,
      stack: spec.stack ?? 'model', layer: i, hidden: spec.hidden, intermediate: spec.intermediate,
      norm: spec.norm === 'post' ? `${path}.${n.ffnNorm}` : undefined,
    });
    const block = blockSite(path, spec.stack ?? 'model', i, spec.hidden);
    sites.push(...at.infos, ...ff.infos, block);
    layers.push(tree.add(path, new EncoderLayer(spec, at.keys, ff.keys, block.path)));
  }
  return { layers, sites };
}

/** Runs the layers; `states` (when given) receives each layer's output. */
export function runEncoder(layers: EncoderLayer[], x: tf.Tensor3D, mask: tf.Tensor4D, ctx: ForwardContext, states?: tf.Tensor3D[]): tf.Tensor3D {
  let h = x;
  for (const layer of layers) {
    h = layerScope(ctx, () => layer.forward(h, mask, ctx));
    states?.push(h);
  }
  return h;
}

/**
 * Word + position (+ token type) embeddings, LayerNorm, dropout (BertEmbeddings,
 * RobertaEmbeddings, DistilBERT's Embeddings). Two sites: `<path>.input` holds the word
 * embeddings before anything is added (Python peft's prompt tuning prepends there, so prompts get
 * positions, token type 0 and the LayerNorm, as HF does with `inputs_embeds`), and
 * `<path>.output` the module's output (AdapterHub's prompt tuning prepends there).
 */
export class TextEmbeddings extends Container {
  readonly word: Embedding;
  readonly position: Embedding;
  readonly tokenType: Embedding | null;
  readonly norm: LayerNorm;

  constructor(
    readonly path: string,
    dims: { vocab: number; hidden: number; maxPositions: number; typeVocab: number; eps: number },
    readonly dropoutRate: number,
  ) {
    super();
    this.word = this.add('word_embeddings', new Embedding(dims.vocab, dims.hidden));
    this.position = this.add('position_embeddings', new Embedding(dims.maxPositions, dims.hidden));
    this.tokenType = dims.typeVocab > 0 ? this.add('token_type_embeddings', new Embedding(dims.typeVocab, dims.hidden)) : null;
    this.norm = this.add('LayerNorm', new LayerNorm(dims.hidden, dims.eps));
  }

  /**
   * `positions(p, length)` gives the position ids [1 or B, length] once `p` vectors were prepended
   * at the input site (length = p + T), and the largest id they may hold. Returns the embedding
   * output and the mask grown by what was prepended.
   */
  forward(
    ids: tf.Tensor2D,
    mask: tf.Tensor2D,
    tokenTypeIds: tf.Tensor2D | undefined,
    positions: (prepended: number, length: number) => { ids: tf.Tensor2D; last: number },
    ctx: ForwardContext,
  ): { embeds: tf.Tensor3D; mask: tf.Tensor2D } {
    const inp = embeddingSite(ctx, `${this.path}.input`, this.word.forward(ids) as tf.Tensor3D, mask);
    const [B, T] = inp.embeds.shape;
    const pos = positions(inp.prepended, T);
    if (pos.last >= this.position.num) {
      throw new PeftError('DATA', `position id ${pos.last} is past the ${this.position.num} learned positions`, {
        where: `${this.path}.position_embeddings`,
        hint: 'shorten data.max_length (prompt tokens count too)',
      });
    }
    let e = tf.add(inp.embeds, this.position.forward(pos.ids));
    if (this.tokenType) {
      let types: tf.Tensor = tokenTypeIds ?? tf.zeros([B, T - inp.prepended], 'int32');
      if (inp.prepended > 0) types = tf.concat([tf.zeros([B, inp.prepended], 'int32'), tf.cast(types, 'int32')], 1);
      e = tf.add(e, this.tokenType.forward(types));
    }
    e = ctx.dropout(this.norm.forward(e), this.dropoutRate);
    const out = embeddingSite(ctx, `${this.path}.output`, e as tf.Tensor3D, inp.mask);
    return { embeds: out.embeds, mask: out.mask };
  }
}

/** Position ids offset … offset + length − 1 as [1, length] int32. */
export function arangePositions(offset: number, length: number): tf.Tensor2D {
  return tf.reshape(tf.range(offset, offset + length, 1, 'int32'), [1, length]) as tf.Tensor2D;
}

/** The number of labels of a classification head: the recipe's, else config.json's id2label, else 2. */
export function numLabels(config: Record<string, unknown>, opts: TaskOptions): number {
  if (opts.task === 'regression') return 1;
  if (opts.numLabels) return opts.numLabels;
  const id2label = config.id2label;
  if (id2label && typeof id2label === 'object') {
    const n = Object.keys(id2label).length;
    if (n > 0) return n;
  }
  const n = config.num_labels;
  return typeof n === 'number' && n > 0 ? n : 2;
}

/** Parameters of a pooler (dense hidden → hidden with bias) that a task class leaves out. */
export function poolerParams(hidden: number): number {
  return hidden * hidden + hidden;
}

/** Parameters of the tree outside the given head prefixes. */
export function paramsOutside(root: Module, headPrefixes: string[]): number {
  return root.namedParams().reduce((n, [name, p]) => (headPrefixes.some((h) => name.startsWith(h + '.')) ? n : n + p.size), 0);
}

export function checkTask(family: string, tasks: TaskType[], task: TaskType): void {
  if (!tasks.includes(task)) {
    throw new PeftError('RECIPE', `task ${task} is not supported on ${family}`, { hint: `${family} supports ${tasks.join(', ')}` });
  }
}
