// The Audio Spectrogram Transformer as transformers' ASTForAudioClassification: log-mel frames
// [B, T, F] seen as a one-channel image [F × T], cut into overlapping 16×16 patches by the
// checkpoint's Conv2d (stride frequency_stride × time_stride; frequency-major patch order), a CLS
// and a distillation token in front, learned positions, ViT's pre-LN encoder layers, a final
// LayerNorm; the head (`classifier`: LayerNorm + dense) reads the mean of the two tokens' states.
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, type Param } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { Conv2d } from '../nn/conv.js';
import { additiveMask } from '../nn/attention.js';
import { activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { embeddingSites } from './sites.js';
import { embeddingSite } from './common.js';
import { ConfigReader } from './config.js';
import { Tree, buildEncoder, runEncoder, numLabels, checkTask, paramsOutside } from './encoder-block.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, TaskModel, TaskOptions } from './types.js';
import { familyInfo, type TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';

const TASKS: TaskType[] = ['audio-cls'];

class AstEmbeddings extends Module {
  readonly cls: Param;
  readonly distillation: Param;
  readonly positions: Param;
  readonly projection: Conv2d;

  constructor(hidden: number, patch: number, strides: [number, number], patches: number) {
    super();
    this.cls = this.param('cls_token', [1, 1, hidden], ['embedding']);
    this.distillation = this.param('distillation_token', [1, 1, hidden], ['embedding']);
    this.positions = this.param('position_embeddings', [1, patches + 2, hidden], ['embedding']);
    this.projection = new Tree(this.module('patch_embeddings', new Container())).add('projection',
      new Conv2d(1, hidden, { kernel: patch, stride: strides, bias: true, tags: ['embedding'] }));
  }

  /** frames [B, T, F] → [B, 2 + f·t, hidden] */
  forward(frames: tf.Tensor3D): tf.Tensor3D {
    const [B, T, F] = frames.shape;
    // [B, F, T, 1]: frequency as height, time as width (transformers transposes to [B, 1, F, T])
    const image = tf.reshape(tf.transpose(frames, [0, 2, 1]), [B, F, T, 1]);
    const y = this.projection.forward(image);
    const [, f, t, H] = y.shape;
    const patches = tf.reshape(y, [B, f * t, H]);
    const tokens = tf.tile(tf.concat([this.cls.value, this.distillation.value], 1), [B, 1, 1]);
    return tf.add(tf.concat([tokens, patches], 1), this.positions.value) as tf.Tensor3D;
  }
}

function buildAst(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  checkTask('ast', TASKS, opts.task);
  const c = new ConfigReader(config, 'config.json');
  const hidden = c.int('hidden_size', 768);
  const heads = c.int('num_attention_heads', 12);
  const patch = c.int('patch_size', 16);
  const fStride = c.int('frequency_stride', 10);
  const tStride = c.int('time_stride', 10);
  const mel = c.int('num_mel_bins', 128);
  const frames = c.int('max_length', 1024);
  const f = Math.floor((mel - patch) / fStride) + 1;
  const t = Math.floor((frames - patch) / tStride) + 1;
  if (f < 1 || t < 1) throw new PeftError('BACKBONE', `${mel} mel bins × ${frames} frames is smaller than one ${patch}×${patch} patch`, { where: 'config.json' });
  const dims: ModelDims = {
    hidden, layers: c.int('num_hidden_layers', 12), heads, kvHeads: heads, headDim: hidden / heads,
    intermediate: c.int('intermediate_size', 3072), vocab: 0, maxPositions: f * t + 2,
  };
  const eps = c.num('layer_norm_eps', 1e-12);
  const hiddenDropout = c.num('hidden_dropout_prob', 0);
  const root = new Container();
  const tree = new Tree(root);
  const embeddings = tree.add('audio_spectrogram_transformer.embeddings', new AstEmbeddings(hidden, patch, [fStride, tStride], f * t));
  const enc = buildEncoder(tree, {
    prefix: 'audio_spectrogram_transformer.encoder.layer', layers: dims.layers, hidden, heads, intermediate: dims.intermediate, eps,
    act: activation(c.str('hidden_act', 'gelu')), norm: 'pre', qkvBias: c.bool('qkv_bias', true),
    attnDropout: c.num('attention_probs_dropout_prob', 0), hiddenDropout, dropoutAfterAttention: true,
    names: {
      attn: 'attention.attention', q: 'query', k: 'key', v: 'value', o: 'attention.output.dense',
      attnNorm: 'layernorm_before', up: 'intermediate.dense', down: 'output.dense', ffnNorm: 'layernorm_after',
    },
  });
  const norm = tree.add('audio_spectrogram_transformer.layernorm', new LayerNorm(hidden, eps));
  const headNorm = tree.add('classifier.layernorm', new LayerNorm(hidden, eps, {}));
  const classifier = tree.add('classifier.dense', new Linear(hidden, numLabels(config, opts), { tags: ['head'] }));
  root.nameTree();
  // prompts go after the two tokens and the positions (as ViT's)
  const sites = [...embeddingSites('audio_spectrogram_transformer.embeddings', 'model', hidden).filter((s) => s.position === 'embeddings.output'), ...enc.sites];

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: { hiddenStates?: boolean } = {}): ModelOutputs {
    const x = inputs.inputValues;
    if (!x) throw new PeftError('RUN', 'AST needs input_values (log-mel frames)', { hint: 'the data pipeline gave no audio features' });
    if (x.shape[1] !== frames || x.shape[2] !== mel) {
      throw new PeftError('SHAPE', `expected ${frames} frames × ${mel} mel bins, got ${x.shape[1]} × ${x.shape[2]}`, {
        where: 'input_values', hint: 'max_length and num_mel_bins in config.json (and preprocessor_config.json) must agree',
      });
    }
    const B = x.shape[0];
    const e = ctx.dropout(embeddings.forward(x), hiddenDropout) as tf.Tensor3D;
    const emb = embeddingSite(ctx, 'audio_spectrogram_transformer.embeddings.output', e, tf.ones([B, e.shape[1]]));
    const T = emb.embeds.shape[1];
    const states = req.hiddenStates ? [emb.embeds] : undefined;
    const last = norm.forward(runEncoder(enc.layers, emb.embeds, additiveMask(emb.mask, B, T, T, false), ctx, states)) as tf.Tensor3D;
    // the CLS and distillation tokens sit after any prepended prompt vectors
    const p = emb.prepended;
    const pooled = tf.div(tf.add(tf.squeeze(tf.slice(last, [0, p, 0], [-1, 1, -1]), [1]), tf.squeeze(tf.slice(last, [0, p + 1, 0], [-1, 1, -1]), [1])), 2) as tf.Tensor2D;
    const logits = classifier.forward(headNorm.forward(pooled));
    return { logits, lastHidden: last, hiddenStates: states, pooled, attentionMask: emb.mask };
  }

  return {
    family: 'ast', architecture: 'ASTForAudioClassification', task: opts.task, config, dims, root, sites,
    headPrefixes: ['classifier'], tied: {}, basePrefix: 'audio_spectrogram_transformer', forward,
    baseModelParams: paramsOutside(root, ['classifier']),
  };
}

export const astFamily: Family = {
  info: familyInfo('ast'),
  build: buildAst,
};
