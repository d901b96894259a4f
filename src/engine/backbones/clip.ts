// CLIP as transformers' CLIPModel: a text tower (token + learned position embeddings, pre-LN
// layers under a causal and a padding mask, a final LayerNorm, the state at the end-of-text
// token projected by `text_projection`) and a vision tower (a CLASS embedding before the
// patches of a bias-free stride-p convolution, learned positions, `pre_layrnorm`, pre-LN layers,
// `post_layernorm` on the CLASS state, `visual_projection`); both embeddings L2-normalised,
// logits = exp(logit_scale)·image·textᵀ. Sites carry the stack `text` or `vision`.
//
// clip-cls: given `inputIds` the text side is those texts (CLIPModel's logits_per_image); given
// only images it is the zero-shot head — every label written into every prompt template, each
// label's text embeddings averaged over templates and renormalised (CLIP's prompt ensembling) —
// recomputed at each pass, so modules in the text tower train through it.
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, type Param } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Embedding } from '../nn/embedding.js';
import { Conv2d } from '../nn/conv.js';
import { additiveMask } from '../nn/attention.js';
import { activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { embeddingSites } from './sites.js';
import { embeddingSite, pickPositions } from './common.js';
import { ConfigReader } from './config.js';
import { Tree, buildEncoder, runEncoder, checkTask, type EncoderLayer } from './encoder-block.js';
import { patchify } from './vit.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import { familyInfo, type TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

const TASKS: TaskType[] = ['clip-cls'];

/** Token ids of each label's prompts (label-major, one row per template), padded, with masks. */
export interface LabelPrompts {
  ids: tf.Tensor2D;
  mask: tf.Tensor2D;
  labels: number;
  templates: number;
}

type Obj = Record<string, unknown>;
const sub = (config: Obj, key: string): Obj => (config[key] && typeof config[key] === 'object' ? (config[key] as Obj) : {});

function towerSpec(c: ConfigReader, d: { hidden: number; inter: number; layers: number; heads: number }) {
  return {
    hidden: c.int('hidden_size', d.hidden), intermediate: c.int('intermediate_size', d.inter), layers: c.int('num_hidden_layers', d.layers),
    heads: c.int('num_attention_heads', d.heads), eps: c.num('layer_norm_eps', 1e-5), act: activation(c.str('hidden_act', 'quick_gelu')),
  };
}

const LAYER_NAMES = {
  attn: 'self_attn', q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'self_attn.out_proj',
  attnNorm: 'layer_norm1', up: 'mlp.fc1', down: 'mlp.fc2', ffnNorm: 'layer_norm2',
};

/** CLIPVisionEmbeddings: `class_embedding`, `patch_embedding` (Conv2d, no bias), `position_embedding`. */
class VisionEmbeddings extends Module {
  readonly classEmbedding: Param;
  readonly patch: Param;
  readonly positions: Embedding;
  constructor(readonly channels: number, readonly size: number, hidden: number, patches: number) {
    super();
    this.classEmbedding = this.param('class_embedding', [hidden], ['embedding']);
    // the checkpoint's Conv2d(C → hidden, kernel = stride = p, no bias), computed over flattened patches
    this.patch = this.module('patch_embedding', new Conv2d(channels, hidden, { kernel: size, stride: size, tags: ['embedding'] })).weight;
    this.positions = this.module('position_embedding', new Embedding(patches + 1, hidden));
  }

  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const B = pixels.shape[0];
    const x = patchify(pixels, this.size);
    const [, N, K] = x.shape;
    const hidden = this.classEmbedding.shape[0];
    const w = tf.reshape(this.patch.value, [hidden, K]) as tf.Tensor2D;
    const patches = tf.reshape(tf.matMul(tf.reshape(x, [B * N, K]) as tf.Tensor2D, w, false, true), [B, N, hidden]);
    const cls = tf.tile(tf.reshape(this.classEmbedding.value, [1, 1, hidden]), [B, 1, 1]);
    return tf.add(tf.concat([cls, patches], 1), tf.expandDims(this.positions.weight.value, 0)) as tf.Tensor3D;
  }
}

function buildClip(config: Obj, opts: TaskOptions): TaskModel {
  checkTask('clip', TASKS, opts.task);
  const top = new ConfigReader(config, 'config.json');
  const tc = new ConfigReader(sub(config, 'text_config'), 'config.json: text_config');
  const vc = new ConfigReader(sub(config, 'vision_config'), 'config.json: vision_config');
  const text = { ...towerSpec(tc, { hidden: 512, inter: 2048, layers: 12, heads: 8 }), vocab: tc.int('vocab_size', 49408), positions: tc.int('max_position_embeddings', 77), eos: tc.int('eos_token_id', 49407) };
  const vision = { ...towerSpec(vc, { hidden: 768, inter: 3072, layers: 12, heads: 12 }), image: vc.int('image_size', 224), patch: vc.int('patch_size', 32), channels: vc.int('num_channels', 3) };
  const projection = top.int('projection_dim', 512);
  if (vision.image % vision.patch !== 0) throw new PeftError('BACKBONE', `image_size ${vision.image} is not a multiple of patch_size ${vision.patch}`, { where: 'config.json: vision_config' });
  const patches = (vision.image / vision.patch) ** 2;
  const root = new ClipRoot();
  const tree = new Tree(root);
  const tokens = tree.add('text_model.embeddings.token_embedding', new Embedding(text.vocab, text.hidden));
  const textPositions = tree.add('text_model.embeddings.position_embedding', new Embedding(text.positions, text.hidden));
  const encoderOf = (prefix: string, t: typeof text | typeof vision, stack: SiteInfo['stack']) => buildEncoder(tree, {
    prefix, layers: t.layers, hidden: t.hidden, heads: t.heads, intermediate: t.intermediate, eps: t.eps, act: t.act, norm: 'pre',
    qkvBias: true, attnDropout: 0, hiddenDropout: 0, dropoutAfterAttention: false, names: LAYER_NAMES, stack,
  });
  const textEnc = encoderOf('text_model.encoder.layers', text, 'text');
  const finalNorm = tree.add('text_model.final_layer_norm', new LayerNorm(text.hidden, text.eps));
  const visionEmb = tree.add('vision_model.embeddings', new VisionEmbeddings(vision.channels, vision.patch, vision.hidden, patches));
  const preNorm = tree.add('vision_model.pre_layrnorm', new LayerNorm(vision.hidden, vision.eps));
  const visionEnc = encoderOf('vision_model.encoder.layers', vision, 'vision');
  const postNorm = tree.add('vision_model.post_layernorm', new LayerNorm(vision.hidden, vision.eps));
  const visualProjection = tree.add('visual_projection', new Linear(vision.hidden, projection, { bias: false }));
  const textProjection = tree.add('text_projection', new Linear(text.hidden, projection, { bias: false }));
  root.nameTree();
  const sites: SiteInfo[] = [
    ...embeddingSites('text_model.embeddings', 'text', text.hidden),
    ...textEnc.sites,
    ...embeddingSites('vision_model.embeddings', 'vision', vision.hidden).filter((s) => s.position === 'embeddings.output'),
    ...visionEnc.sites,
  ];
  let prompts: LabelPrompts | null = null;

  /** Text embeddings [N, P] (normalised) and the text tower's last states. */
  function encodeText(ids: tf.Tensor2D, mask: tf.Tensor2D, ctx: ForwardContext): { embeds: tf.Tensor2D; last: tf.Tensor3D } {
    const [B, T] = ids.shape;
    if (T > text.positions) throw new PeftError('DATA', `a text of ${T} tokens exceeds CLIP's ${text.positions} positions`, { hint: 'shorten the prompts' });
    const inp = embeddingSite(ctx, 'text_model.embeddings.input', tokens.forward(ids) as tf.Tensor3D, tf.cast(mask, 'float32') as tf.Tensor2D);
    const L = inp.embeds.shape[1];
    if (L > text.positions) throw new PeftError('DATA', `prompt vectors and text make ${L} positions, past CLIP's ${text.positions}`, { hint: 'fewer prompt vectors or shorter prompts' });
    const e = tf.add(inp.embeds, tf.expandDims(tf.slice(textPositions.weight.value, [0, 0], [L, -1]), 0)) as tf.Tensor3D;
    const out = embeddingSite(ctx, 'text_model.embeddings.output', e, inp.mask);
    const S = out.embeds.shape[1];
    const last = finalNorm.forward(runEncoder(textEnc.layers as EncoderLayer[], out.embeds, additiveMask(out.mask, B, S, S, true), ctx)) as tf.Tensor3D;
    // the end-of-text token: the highest id (configs with eos id 2, as transformers keeps for them) or the first eos
    const idsF = tf.cast(ids, 'float32');
    const eosAt = text.eos === 2 ? tf.argMax(idsF, 1) : tf.argMax(tf.cast(tf.equal(ids, text.eos), 'float32'), 1);
    const pooled = pickPositions(last, tf.add(eosAt, S - T) as tf.Tensor1D);
    return { embeds: normalize(textProjection.forward(pooled) as tf.Tensor2D), last };
  }

  function encodeImage(pixels: tf.Tensor4D, ctx: ForwardContext): { embeds: tf.Tensor2D; pooled: tf.Tensor2D } {
    const [B, C, H, W] = pixels.shape;
    if (C !== vision.channels || H !== vision.image || W !== vision.image) {
      throw new PeftError('SHAPE', `expected images [${vision.channels}, ${vision.image}, ${vision.image}], got [${C}, ${H}, ${W}]`, { where: 'pixel_values', hint: 'vision_config.image_size' });
    }
    const emb = embeddingSite(ctx, 'vision_model.embeddings.output', visionEmb.forward(pixels), tf.ones([B, patches + 1]));
    const S = emb.embeds.shape[1];
    const last = runEncoder(visionEnc.layers as EncoderLayer[], preNorm.forward(emb.embeds) as tf.Tensor3D, additiveMask(emb.mask, B, S, S, false), ctx);
    const pooled = postNorm.forward(tf.squeeze(tf.slice(last, [0, emb.prepended, 0], [-1, 1, -1]), [1])) as tf.Tensor2D;
    return { embeds: normalize(visualProjection.forward(pooled) as tf.Tensor2D), pooled };
  }

  /** The zero-shot head's label embeddings [labels, P]: each label's templates averaged, renormalised. */
  function labelEmbeddings(ctx: ForwardContext): tf.Tensor2D {
    if (!prompts) throw new PeftError('RUN', 'the clip-cls head has no label prompts', { hint: 'the label names and task.prompts are tokenised when the model is opened' });
    const { embeds } = encodeText(prompts.ids, prompts.mask, ctx);
    const mean = tf.mean(tf.reshape(embeds, [prompts.labels, prompts.templates, projection]), 1) as tf.Tensor2D;
    return normalize(mean);
  }

  function forward(inputs: ModelInputs, ctx: ForwardContext): ModelOutputs {
    if (!inputs.pixelValues) throw new PeftError('RUN', 'CLIP needs pixel_values', { hint: 'the data pipeline gave no images' });
    const image = encodeImage(inputs.pixelValues, ctx);
    let textEmbeds: tf.Tensor2D;
    let textLast: tf.Tensor3D | undefined;
    if (inputs.inputIds) {
      const t = encodeText(inputs.inputIds, inputs.attentionMask ?? (tf.onesLike(inputs.inputIds) as tf.Tensor2D), ctx);
      textEmbeds = t.embeds;
      textLast = t.last;
    } else textEmbeds = labelEmbeddings(ctx);
    const logits = tf.mul(tf.matMul(image.embeds, textEmbeds, false, true), tf.exp(root.logitScale.value));
    return {
      logits, lastHidden: tf.expandDims(image.embeds, 1) as tf.Tensor3D, pooled: image.embeds,
      towers: { imageEmbeds: image.embeds, textEmbeds, visionPooled: image.pooled, textLastHidden: textLast },
    };
  }

  // the text tower's (its vocabulary and positions are the model's; prompt tuning reads them)
  const dims: ModelDims = {
    hidden: text.hidden, layers: text.layers, heads: text.heads, kvHeads: text.heads, headDim: text.hidden / text.heads,
    intermediate: text.intermediate, vocab: text.vocab, maxPositions: text.positions,
  };
  return {
    family: 'clip', architecture: 'CLIPModel', task: opts.task, config, dims, root, sites, headPrefixes: [], tied: {}, basePrefix: '', forward,
    setLabelPrompts: (p) => {
      prompts?.ids.dispose();
      prompts?.mask.dispose();
      prompts = { ...p, ids: tf.keep(p.ids), mask: tf.keep(p.mask) };
    },
  };
}

/** x / ‖x‖ per row. */
function normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
}

/** CLIPModel's root holds `logit_scale`: one scalar parameter (shape [] in the checkpoint). */
class ClipRoot extends Container {
  readonly logitScale = this.param('logit_scale', [], ['head']);
}

export const clipFamily: Family = {
  info: familyInfo('clip'),
  build: buildClip,
};
