// The loss of a batch for the plan's task, from a forward pass with the PEFT modules attached.
import * as tf from '@tensorflow/tfjs-core';
import type { TaskModel, ModelInputs } from '../backbones/types.js';
import type { ForwardContext } from '../nn/context.js';
import type { Batch } from '../data/batches.js';
import type { TaskPlan } from '../../recipes/types.js';
import { causalLmLoss, crossEntropy, mseLoss } from './losses.js';

/** Tensors for a batch (the caller disposes them, or runs inside tf.tidy). */
export function batchInputs(b: Batch): ModelInputs {
  const inputs: ModelInputs = {
    inputIds: tf.tensor2d(b.inputIds, [b.size, b.seqLen], 'int32'),
    attentionMask: tf.tensor2d(b.attentionMask, [b.size, b.seqLen]),
  };
  if (b.typeIds) inputs.tokenTypeIds = tf.tensor2d(b.typeIds, [b.size, b.seqLen], 'int32');
  return inputs;
}

/** Labels for causal LM: the ids, -100 at padding (and at prepended prompt positions). */
function lmLabels(b: Batch, prepended: number): tf.Tensor2D {
  const labels = b.tokenLabels ?? Int32Array.from(b.inputIds, (id, i) => (b.attentionMask[i] > 0 ? id : -100));
  const t = tf.tensor2d(labels, [b.size, b.seqLen], 'int32');
  if (prepended === 0) return t;
  return tf.concat([tf.fill([b.size, prepended], -100, 'int32'), t], 1) as tf.Tensor2D;
}

export function taskLoss(model: TaskModel, task: TaskPlan, b: Batch, ctx: ForwardContext): tf.Scalar {
  const out = model.forward(batchInputs(b), ctx);
  switch (task.type) {
    case 'causal-lm': {
      const prepended = out.logits.shape[1]! - b.seqLen;
      return causalLmLoss(out.logits as tf.Tensor3D, lmLabels(b, prepended), task.labelSmoothing);
    }
    case 'regression':
      return mseLoss(out.logits, tf.tensor1d(b.labels!));
    case 'token-cls': {
      const [B, T, C] = out.logits.shape as number[];
      const labels = tf.tensor1d(b.tokenLabels!, 'int32');
      const logits = tf.slice(out.logits, [0, T - b.seqLen, 0], [B, b.seqLen, C]);
      return crossEntropy(tf.reshape(logits, [-1, C]) as tf.Tensor2D, labels, task.labelSmoothing);
    }
    default:
      return crossEntropy(out.logits as tf.Tensor2D, tf.tensor1d(Int32Array.from(b.labels!), 'int32'), task.labelSmoothing);
  }
}
