// RoBERTa: BERT's base model under `roberta.`, with position ids counted from padding_idx + 1
// over the non-pad tokens (pads get padding_idx), and its own heads: RobertaClassificationHead
// (`classifier.dense` + tanh + `classifier.out_proj` on the first token) for sequence
// classification, a `classifier` on every token for token classification. Neither task class
// has RobertaModel's pooler.
import * as tf from '@tensorflow/tfjs-core';
import { Container } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import type { ForwardContext } from '../nn/context.js';
import { pool } from './common.js';
import { ConfigReader } from './config.js';
import { buildBertBase, runBertBase, BERT_TASKS } from './bert.js';
import { Tree, arangePositions, numLabels, poolerParams, checkTask, paramsOutside } from './encoder-block.js';
import type { Family, ModelInputs, ModelOutputs, TaskModel, TaskOptions } from './types.js';
import { familyInfo } from '../../plan/index.js';

/**
 * Position ids as RobertaEmbeddings derives them. From input ids: padding_idx + (cumsum of the
 * non-pad mask + offset) · mask, offset being the past length (prefix tuning). After vectors were
 * prepended to the word embeddings HF only has `inputs_embeds`, and numbers every position
 * padding_idx + 1, padding_idx + 2, … (pads included, offset ignored).
 */
export function robertaPositions(ids: tf.Tensor2D, pad: number, offset: number, prepended: number, length: number): { ids: tf.Tensor2D; last: number } {
  if (prepended > 0) return { ids: arangePositions(pad + 1, length), last: pad + length };
  const real = tf.cast(tf.notEqual(ids, pad), 'int32');
  const counted = tf.mul(tf.add(tf.cumsum(real, 1), offset), real);
  return { ids: tf.add(counted, pad) as tf.Tensor2D, last: pad + offset + length };
}

function buildRoberta(config: Record<string, unknown>, opts: TaskOptions): TaskModel {
  checkTask('roberta', BERT_TASKS, opts.task);
  const pad = new ConfigReader(config, 'config.json').int('pad_token_id', 1);
  const root = new Container();
  const tree = new Tree(root);
  const base = buildBertBase(config, 'roberta', tree);
  const h = base.dims.hidden;
  const labels = numLabels(config, opts);
  const tokens = opts.task === 'token-cls';
  const classifier = tokens ? root.add('classifier', new Linear(h, labels, { tags: ['head'] })) : null;
  const dense = tokens ? null : tree.add('classifier.dense', new Linear(h, h, { tags: ['head'] }));
  const outProj = tokens ? null : tree.add('classifier.out_proj', new Linear(h, labels, { tags: ['head'] }));
  root.nameTree();
  const pooling = opts.pooling ?? 'first';
  const drop = base.classifierDropout;

  function forward(inputs: ModelInputs, ctx: ForwardContext, req: { hiddenStates?: boolean } = {}): ModelOutputs {
    const { x, states, mask } = runBertBase(base, inputs, ctx, (ids, p, n) => robertaPositions(ids, pad, ctx.positionOffset, p, n), req);
    let logits: tf.Tensor;
    if (classifier) {
      logits = classifier.forward(ctx.dropout(x, drop));
    } else {
      const first = ctx.dropout(pool(x, mask, pooling), drop);
      logits = outProj!.forward(ctx.dropout(tf.tanh(dense!.forward(first)), drop));
    }
    return { logits, lastHidden: x, hiddenStates: states, attentionMask: mask };
  }

  return {
    family: 'roberta', task: opts.task, config, dims: base.dims, root, sites: base.sites, headPrefixes: ['classifier'], tied: {},
    architecture: tokens ? 'RobertaForTokenClassification' : 'RobertaForSequenceClassification',
    basePrefix: 'roberta', forward,
    baseModelParams: paramsOutside(root, ['classifier']) + poolerParams(h),
  };
}

export const robertaFamily: Family = {
  info: familyInfo('roberta'),
  build: buildRoberta,
};
