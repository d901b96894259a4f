// BERT: word + position + token-type embeddings, post-LN encoder layers, and the pooler (dense +
// tanh on the first token) that belongs to BertModel. Names as transformers'
// BertForSequenceClassification / BertForTokenClassification. RoBERTa reuses the base model.
import * as tf from '@tensorflow/tfjs-core';
import { Container } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { additiveMask } from '../nn/attention.js';
import { activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { embeddingSites } from './sites.js';
import { defaultMask, pool } from './common.js';
import { ConfigReader } from './config.js';
import {
  Tree, TextEmbeddings, buildEncoder, runEncoder, arangePositions, numLabels, poolerParams, checkTask, paramsOutside,
  type EncoderLayer, type EncoderLayerNames,
} from './encoder-block.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, SiteInfo, TaskModel, TaskOptions } from './types.js';
import type { TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';

/** BertLayer's module paths (RobertaLayer has the same). */
export const BERT_LAYER_NAMES: EncoderLayerNames = {
  attn: 'attention.self', q: 'query', k: 'key', v: 'value', o: 'attention.output.dense',
  attnNorm: 'attention.output.LayerNorm', up: 'intermediate.dense', down: 'output.dense', ffnNorm: 'output.LayerNorm',
};

export const BERT_TASKS: TaskType[] = ['seq-cls', 'regression', 'token-cls'];

export interface BertBase {
  dims: ModelDims;
  embeddings: TextEmbeddings;
  layers: EncoderLayer[];
  sites: SiteInfo[];
  hiddenDropout: number;
  /** Dropout before the classifier (`classifier_dropout`, else `hidden_dropout_prob`). */
  classifierDropout: number;
}

/** Embeddings and encoder of BertModel / RobertaModel under `<prefix>.` (the pooler is the caller's). */
export function buildBertBase(config: Record<string, unknown>, prefix: string, tree: Tree): BertBase {
  const c = new ConfigReader(config, 'config.json');
  const kind = c.str('position_embedding_type', 'absolute');
  if (kind !== 'absolute') {
    throw new PeftError('BACKBONE', `position_embedding_type "${kind}" is not supported`, { where: 'config.json', hint: 'only absolute position embeddings are' });
  }
  const hidden = c.int('hidden_size');
  const heads = c.int('num_attention_heads');
  const dims: ModelDims = {
    hidden, layers: c.int('num_hidden_layers'), heads, kvHeads: heads, headDim: hidden / heads,
    intermediate: c.int('intermediate_size'), vocab: c.int('vocab_size'), maxPositions: c.int('max_position_embeddings', 512),
  };
  const eps = c.num('layer_norm_eps', 1e-12);
  const hiddenDropout = c.num('hidden_dropout_prob', 0.1);
  const embeddings = tree.add(`${prefix}.embeddings`, new TextEmbeddings(`${prefix}.embeddings`, {
    vocab: dims.vocab, hidden, maxPositions: dims.maxPositions, typeVocab: c.int('type_vocab_size', 2), eps,
  }, hiddenDropout));
  const enc = buildEncoder(tree, {
    prefix: `${prefix}.encoder.layer`, layers: dims.layers, hidden, heads, intermediate: dims.intermediate, eps,
    act: activation(c.str('hidden_act', 'gelu')), norm: 'post', qkvBias: true,
    attnDropout: c.num('attention_probs_dropout_prob', 0.1), hiddenDropout, dropoutAfterAttention: true, names: BERT_LAYER_NAMES,
  });
  return {
    dims, embeddings, layers: enc.layers, sites: [...embeddingSites(`${prefix}.embeddings`, 'model', hidden), ...enc.sites],
    hiddenDropout, classifierDropout: c.optNum('classifier_dropout') ?? hiddenDropout,
  };
}

/** Runs embeddings and encoder: the last hidden state, the states, and the mask after prepends. */
export function runBertBase(
  base: BertBase,
  inputs: ModelInputs,
  ctx: ForwardContext,
  positions: (ids: tf.Tensor2D, prepended: number, length: number) => { ids: tf.Tensor2D; last: number },
  req: { hiddenStates?: boolean },
): { x: tf.Tensor3D; states?: tf.Tensor3D[]; mask: tf.Tensor2D } {
  const ids = inputs.inputIds;
  if (!ids) throw new PeftError('RUN', 'this backbone needs input_ids', { hint: 'the data pipeline gave no token ids' });
  const emb = base.embeddings.forward(ids, defaultMask(ids, inputs.attentionMask), inputs.tokenTypeIds, (p, n) => positions(ids, p, n), ctx);
  const [B, T] = emb.mask.shape;
  const states = req.hiddenStates ? [emb.embeds] : undefined;
  const x = runEncoder(base.layers, emb.embeds, additiveMask(emb.mask, B, T, T, false), ctx, states);
  return { x, states, mask: emb.mask };
}

function buildBert(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  checkTask('bert', BERT_TASKS, opts.task);
  const root = new Container();
  const tree = new Tree(root);
  const base = buildBertBase(config, 'bert', tree);
  const h = base.dims.hidden;
  // BertForTokenClassification builds BertModel without its pooler
  const pooler = opts.task === 'token-cls' ? null : tree.add('bert.pooler.dense', new Linear(h, h));
  const classifier = root.add('classifier', new Linear(h, numLabels(config, opts), { tags: ['head'] }));
  root.nameTree();
  const pooling = opts.pooling ?? 'first';

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: { hiddenStates?: boolean } = {}): ModelOutputs {
    // positions 0 … P+T−1 (from the past length under prefix tuning, as HF does)
    const { x, states, mask } = runBertBase(base, inputs, ctx, (_ids, _p, n) => ({
      ids: arangePositions(ctx.positionOffset, n), last: ctx.positionOffset + n - 1,
    }), req);
    if (!pooler) {
      return { logits: classifier.forward(ctx.dropout(x, base.classifierDropout)), lastHidden: x, hiddenStates: states, attentionMask: mask };
    }
    const pooled = tf.tanh(pooler.forward(pool(x, mask, pooling))) as tf.Tensor2D;
    const logits = classifier.forward(ctx.dropout(pooled, base.classifierDropout));
    return { logits, lastHidden: x, hiddenStates: states, pooled, attentionMask: mask };
  }

  return {
    family: 'bert', task: opts.task, config, dims: base.dims, root, sites: base.sites, headPrefixes: ['classifier'], tied: {},
    architecture: opts.task === 'token-cls' ? 'BertForTokenClassification' : 'BertForSequenceClassification',
    basePrefix: 'bert', forward,
    // BertModel (the base class) has the pooler even where the task class drops it
    baseModelParams: paramsOutside(root, ['classifier']) + (pooler ? 0 : poolerParams(h)),
  };
}

export const bertFamily: Family = {
  info: familyInfo('bert'),
  build: buildBert,
};
