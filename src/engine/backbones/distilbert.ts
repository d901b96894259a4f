// DistilBERT: word + position embeddings (no token types), post-LN layers with q_lin/k_lin/v_lin/
// out_lin attention (no dropout after out_lin) and an ffn of lin1/lin2, LayerNorm eps 1e-12.
// Heads as transformers' DistilBertForSequenceClassification (`pre_classifier` + ReLU +
// `classifier` on the first token) and DistilBertForTokenClassification.
import * as tf from '@tensorflow/tfjs-core';
import { Container } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { additiveMask } from '../nn/attention.js';
import { activation } from '../nn/activations.js';
import type { ForwardContext } from '../nn/context.js';
import { embeddingSites } from './sites.js';
import { defaultMask, pool } from './common.js';
import { ConfigReader } from './config.js';
import { Tree, TextEmbeddings, buildEncoder, runEncoder, arangePositions, numLabels, checkTask } from './encoder-block.js';
import type { Family, ModelDims, ModelInputs, ModelOutputs, TaskModel, TaskOptions } from './types.js';
import type { TaskType } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { familyInfo } from '../../plan/index.js';

const TASKS: TaskType[] = ['seq-cls', 'regression', 'token-cls'];
/** DistilBERT's LayerNorms use a fixed eps (not in config.json). */
const EPS = 1e-12;

function buildDistilbert(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  checkTask('distilbert', TASKS, opts.task);
  const c = new ConfigReader(config, 'config.json');
  const hidden = c.int('dim');
  const heads = c.int('n_heads');
  const dims: ModelDims = {
    hidden, layers: c.int('n_layers'), heads, kvHeads: heads, headDim: hidden / heads,
    intermediate: c.int('hidden_dim'), vocab: c.int('vocab_size'), maxPositions: c.int('max_position_embeddings', 512),
  };
  const dropout = c.num('dropout', 0.1);
  const root = new Container();
  const tree = new Tree(root);
  const embeddings = tree.add('distilbert.embeddings', new TextEmbeddings('distilbert.embeddings', {
    vocab: dims.vocab, hidden, maxPositions: dims.maxPositions, typeVocab: 0, eps: EPS,
  }, dropout));
  const enc = buildEncoder(tree, {
    prefix: 'distilbert.transformer.layer', layers: dims.layers, hidden, heads, intermediate: dims.intermediate, eps: EPS,
    act: activation(c.str('activation', 'gelu')), norm: 'post', qkvBias: true,
    attnDropout: c.num('attention_dropout', 0.1), hiddenDropout: dropout, dropoutAfterAttention: false,
    names: {
      attn: 'attention', q: 'q_lin', k: 'k_lin', v: 'v_lin', o: 'attention.out_lin',
      attnNorm: 'sa_layer_norm', up: 'ffn.lin1', down: 'ffn.lin2', ffnNorm: 'output_layer_norm',
    },
  });
  const labels = numLabels(config, opts);
  const tokens = opts.task === 'token-cls';
  const preClassifier = tokens ? null : root.add('pre_classifier', new Linear(hidden, hidden, { tags: ['head'] }));
  const classifier = root.add('classifier', new Linear(hidden, labels, { tags: ['head'] }));
  root.nameTree();
  const pooling = opts.pooling ?? 'first';
  const headDropout = tokens ? dropout : c.num('seq_classif_dropout', 0.2);

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: { hiddenStates?: boolean } = {}): ModelOutputs {
    const ids = inputs.inputIds;
    if (!ids) throw new PeftError('RUN', 'this backbone needs input_ids', { hint: 'the data pipeline gave no token ids' });
    // positions 0 … P+T−1 (DistilBERT has no token types: tokenTypeIds are ignored, as HF does not take them)
    const emb = embeddings.forward(ids, defaultMask(ids, inputs.attentionMask), undefined, (_p, n) => ({
      ids: arangePositions(ctx.positionOffset, n), last: ctx.positionOffset + n - 1,
    }), ctx);
    const [B, T] = emb.mask.shape;
    const states = req.hiddenStates ? [emb.embeds] : undefined;
    const x = runEncoder(enc.layers, emb.embeds, additiveMask(emb.mask, B, T, T, false), ctx, states);
    const logits = preClassifier
      ? classifier.forward(ctx.dropout(tf.relu(preClassifier.forward(pool(x, emb.mask, pooling))), headDropout))
      : classifier.forward(ctx.dropout(x, headDropout));
    return { logits, lastHidden: x, hiddenStates: states, attentionMask: emb.mask };
  }

  return {
    family: 'distilbert', task: opts.task, config, dims, root,
    sites: [...embeddingSites('distilbert.embeddings', 'model', hidden), ...enc.sites],
    headPrefixes: tokens ? ['classifier'] : ['pre_classifier', 'classifier'], tied: {},
    architecture: tokens ? 'DistilBertForTokenClassification' : 'DistilBertForSequenceClassification',
    basePrefix: 'distilbert', forward,
  };
}

export const distilbertFamily: Family = {
  info: familyInfo('distilbert'),
  build: buildDistilbert,
};
