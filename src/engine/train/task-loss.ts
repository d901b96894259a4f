// The loss of a batch for the plan's task, from a forward pass with the PEFT modules attached.
import * as tf from '@tensorflow/tfjs-core';
import type { TaskModel, ModelInputs, ModelOutputs } from '../backbones/types.js';
import type { ForwardContext } from '../nn/context.js';
import type { Batch } from '../data/batches.js';
import type { TaskPlan } from '../../plan/index.js';
import { causalLmLoss, crossEntropy, mseLoss, seq2seqLoss } from './losses.js';

/** Tensors for a batch (the caller disposes them, or runs inside tf.tidy). */
export function batchInputs(b: Batch): ModelInputs {
  if (b.pixelValues && b.pixelShape) {
    return { pixelValues: tf.tensor4d(b.pixelValues, [b.size, ...b.pixelShape]) };
  }
  if (b.inputValues && b.audioShape) {
    return { inputValues: tf.tensor3d(b.inputValues, [b.size, ...b.audioShape]) };
  }
  const inputs: ModelInputs = {
    inputIds: tf.tensor2d(b.inputIds, [b.size, b.seqLen], 'int32'),
    attentionMask: tf.tensor2d(b.attentionMask, [b.size, b.seqLen]),
  };
  if (b.typeIds) inputs.tokenTypeIds = tf.tensor2d(b.typeIds, [b.size, b.seqLen], 'int32');
  if (b.decoderInputIds && b.targetLen !== undefined) inputs.decoderInputIds = tf.tensor2d(b.decoderInputIds, [b.size, b.targetLen], 'int32');
  return inputs;
}

/** Labels for causal LM: the ids, -100 at padding (and at prepended prompt positions). */
export function lmLabels(b: Batch, prepended: number): tf.Tensor2D {
  const labels = b.tokenLabels ?? Int32Array.from(b.inputIds, (id, i) => (b.attentionMask[i] > 0 ? id : -100));
  const t = tf.tensor2d(labels, [b.size, b.seqLen], 'int32');
  if (prepended === 0) return t;
  return tf.concat([tf.fill([b.size, prepended], -100, 'int32'), t], 1) as tf.Tensor2D;
}

/** Token logits [B, T, C] without positions a prompt prepended (the last `len` positions). */
export function lastPositions(logits: tf.Tensor, len: number): tf.Tensor3D {
  const [B, T, C] = logits.shape as number[];
  return (T === len ? logits : tf.slice(logits, [0, T - len, 0], [B, len, C])) as tf.Tensor3D;
}

/**
 * Class logits [B, C] restricted to the batch's head columns (`b.classes`: a task of several
 * sharing one head), and its labels as indices into them; unchanged when the batch names none.
 */
export function batchClasses(logits: tf.Tensor2D, b: Batch): { logits: tf.Tensor2D; labels: Int32Array | null } {
  if (!b.classes) return { logits, labels: b.labels ? Int32Array.from(b.labels) : null };
  const index = new Map(b.classes.map((c, k) => [c, k]));
  const labels = b.labels ? Int32Array.from(b.labels, (c) => index.get(c) ?? -1) : null;
  if (labels?.includes(-1)) throw new Error(`a label of the batch is not among its classes (${b.classes.join(', ')})`);
  return { logits: tf.gather(logits, tf.tensor1d(Int32Array.from(b.classes), 'int32'), 1) as tf.Tensor2D, labels };
}

/** The task loss of a forward pass's outputs (mean over the batch's labelled positions). */
export function lossOf(out: ModelOutputs, task: TaskPlan, b: Batch, smoothing = task.labelSmoothing): tf.Scalar {
  switch (task.type) {
    case 'causal-lm': {
      const prepended = out.logits.shape[1]! - b.seqLen;
      return causalLmLoss(out.logits as tf.Tensor3D, lmLabels(b, prepended), smoothing);
    }
    case 'regression':
      return mseLoss(out.logits, tf.tensor1d(b.labels!));
    case 'token-cls': {
      const C = out.logits.shape[2]!;
      const logits = lastPositions(out.logits, b.seqLen);
      return crossEntropy(tf.reshape(logits, [-1, C]) as tf.Tensor2D, tf.tensor1d(b.tokenLabels!, 'int32'), smoothing);
    }
    case 'seq2seq': {
      const S = b.targetLen!;
      return seq2seqLoss(lastPositions(out.logits, S), tf.tensor2d(b.targetLabels!, [b.size, S], 'int32'), smoothing);
    }
    default: {
      const { logits, labels } = batchClasses(out.logits as tf.Tensor2D, b);
      return crossEntropy(logits, tf.tensor1d(labels!, 'int32'), smoothing);
    }
  }
}

export function taskLoss(model: TaskModel, task: TaskPlan, b: Batch, ctx: ForwardContext): tf.Scalar {
  return lossOf(model.forward(batchInputs(b), ctx), task, b);
}
