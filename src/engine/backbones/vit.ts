// ViT: the image cut into p×p patches, each projected to the hidden size (the checkpoint's
// Conv2d [hidden, C, p, p] with stride p, computed as a matmul over flattened patches), a CLS
// token in front, learned position embeddings, pre-LN encoder layers, a final LayerNorm.
// Names as transformers' ViTForImageClassification: `classifier` on the CLS token, and no pooler
// (ViTModel has one, counted in `baseModelParams`).
import * as tf from '@tensorflow/tfjs-core';
import { Container, Module, type Param } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { LayerNorm } from '../nn/norm.js';
import { additiveMask } from '../nn/attention.js';
import { activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { embeddingSites } from './sites.js';
import { embeddingSite, pool } from './common.js';
import { ConfigReader } from './config.js';
import { Tree, buildEncoder, runEncoder, numLabels, poolerParams, checkTask, paramsOutside } from './encoder-block.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, TaskModel, TaskOptions } from './types.js';
import type { TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';

const TASKS: TaskType[] = ['image-cls'];

/** [B, C, H, W] → [B, N, C·p·p]: patches in row-major order, each flattened as (channel, row, column). */
export function patchify(pixels: tf.Tensor4D, p: number): tf.Tensor3D {
  const [B, C, H, W] = pixels.shape;
  const hp = H / p;
  const wp = W / p;
  // only rank-4 transposes (the wasm backend's kernels cover them)
  const rows = tf.transpose(tf.reshape(pixels, [B * C * hp, p, wp, p]), [0, 2, 1, 3]);
  const byPatch = tf.transpose(tf.reshape(rows, [B, C, hp * wp, p * p]), [0, 2, 1, 3]);
  return tf.reshape(byPatch, [B, hp * wp, C * p * p]) as tf.Tensor3D;
}

/** `patch_embeddings.projection`: Conv2d(C → hidden, kernel p, stride p) with the torch layout. */
class PatchProjection extends Module {
  readonly weight: Param;
  readonly bias: Param;
  constructor(readonly channels: number, readonly patch: number, readonly hidden: number) {
    super();
    this.weight = this.param('weight', [hidden, channels, patch, patch], ['embedding']);
    this.bias = this.param('bias', [hidden], ['bias', 'embedding']);
  }

  /** pixels [B, C, H, W] → [B, N, hidden] */
  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const x = patchify(pixels, this.patch);
    const [B, N, K] = x.shape;
    const w = tf.reshape(this.weight.value, [this.hidden, K]) as tf.Tensor2D;
    const y = tf.add(tf.matMul(tf.reshape(x, [B * N, K]) as tf.Tensor2D, w, false, true), this.bias.value);
    return tf.reshape(y, [B, N, this.hidden]) as tf.Tensor3D;
  }
}

class VitEmbeddings extends Module {
  readonly cls: Param;
  readonly positions: Param;
  readonly projection: PatchProjection;
  constructor(channels: number, patch: number, hidden: number, patches: number) {
    super();
    this.cls = this.param('cls_token', [1, 1, hidden], ['embedding']);
    this.positions = this.param('position_embeddings', [1, patches + 1, hidden], ['embedding']);
    this.projection = new Tree(this.module('patch_embeddings', new Container())).add('projection', new PatchProjection(channels, patch, hidden));
  }

  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const patches = this.projection.forward(pixels);
    const cls = tf.tile(this.cls.value, [pixels.shape[0], 1, 1]);
    return tf.add(tf.concat([cls, patches], 1), this.positions.value) as tf.Tensor3D;
  }
}

function buildVit(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  checkTask('vit', TASKS, opts.task);
  const c = new ConfigReader(config, 'config.json');
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  const image = c.int('image_size', 224);
  const patch = c.int('patch_size', 16);
  const channels = c.int('num_channels', 3);
  if (image % patch !== 0) {
    throw new PeftError('BACKBONE', `image_size ${image} is not a multiple of patch_size ${patch}`, { where: 'config.json' });
  }
  const patches = (image / patch) ** 2;
  const dims: ModelDims = {
    hidden, layers: c.int('num_hidden_layers'), heads, kvHeads: heads, headDim: hidden / heads,
    intermediate: c.int('intermediate_size'), vocab: 0, maxPositions: patches + 1,
  };
  const eps = c.num('layer_norm_eps', 1e-12);
  const hiddenDropout = c.num('hidden_dropout_prob', 0);
  const root = new Container();
  const tree = new Tree(root);
  const embeddings = tree.add('vit.embeddings', new VitEmbeddings(channels, patch, hidden, patches));
  const enc = buildEncoder(tree, {
    prefix: 'vit.encoder.layer', layers: dims.layers, hidden, heads, intermediate: dims.intermediate, eps,
    act: activation(c.str('hidden_act', 'gelu')), norm: 'pre', qkvBias: c.bool('qkv_bias', true),
    attnDropout: c.num('attention_probs_dropout_prob', 0), hiddenDropout, dropoutAfterAttention: true,
    names: {
      attn: 'attention.attention', q: 'query', k: 'key', v: 'value', o: 'attention.output.dense',
      attnNorm: 'layernorm_before', up: 'intermediate.dense', down: 'output.dense', ffnNorm: 'layernorm_after',
    },
  });
  const norm = tree.add('vit.layernorm', new LayerNorm(hidden, eps));
  const classifier = root.add('classifier', new Linear(hidden, numLabels(config, opts), { tags: ['head'] }));
  root.nameTree();
  const pooling = opts.pooling ?? 'first';
  // no token embeddings: prompts go after the CLS token and position embeddings (`embeddings.output`)
  const sites = [...embeddingSites('vit.embeddings', 'model', hidden).filter((s) => s.position === 'embeddings.output'), ...enc.sites];

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: { hiddenStates?: boolean } = {}): ModelOutputs {
    const pixels = inputs.pixelValues;
    if (!pixels) throw new PeftError('RUN', 'ViT needs pixel_values', { hint: 'the data pipeline gave no images' });
    const [B, C, H, W] = pixels.shape;
    if (C !== channels || H !== image || W !== image) {
      throw new PeftError('SHAPE', `expected images [${channels}, ${image}, ${image}], got [${C}, ${H}, ${W}]`, {
        where: 'pixel_values', hint: 'resize the images to the size in config.json (image_size, num_channels)',
      });
    }
    const e = ctx.dropout(embeddings.forward(pixels), hiddenDropout) as tf.Tensor3D;
    const emb = embeddingSite(ctx, 'vit.embeddings.output', e, tf.ones([B, e.shape[1]]));
    const T = emb.embeds.shape[1];
    const states = req.hiddenStates ? [emb.embeds] : undefined;
    const last = runEncoder(enc.layers, emb.embeds, additiveMask(emb.mask, B, T, T, false), ctx, states);
    // hidden_states end before the final LayerNorm; last_hidden_state is after it
    const x = norm.forward(last) as tf.Tensor3D;
    const pooled = pool(x, emb.mask, pooling);
    const logits = classifier.forward(pooled);
    return { logits, lastHidden: x, hiddenStates: states, pooled, attentionMask: emb.mask };
  }

  return {
    family: 'vit', architecture: 'ViTForImageClassification', task: opts.task, config, dims, root, sites,
    headPrefixes: ['classifier'], tied: {}, basePrefix: 'vit', forward,
    baseModelParams: paramsOutside(root, ['classifier']) + poolerParams(hidden),
  };
}

export const vitFamily: Family = {
  info: familyInfo('vit'),
  build: buildVit,
};
