// One forward pass over a batch, read out per example for every task: the loss sum (for the
// split's mean loss), what the model predicts, and the references the batch carries. Evaluation
// aggregates these into metrics; `peft predict` writes them out.
import * as tf from '@tensorflow/tfjs-core';
import type { Plan } from '../../plan/index.js';
import type { TaskModel } from '../backbones/types.js';
import type { PeftModel } from '../methods/index.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import type { Batch } from '../data/batches.js';
import { IGNORE_INDEX } from '../data/encode.js';
import { batchInputs, lastPositions, lmLabels } from '../train/task-loss.js';
import { causalLmNll, crossEntropy } from '../train/losses.js';
import { generate, generateOptionsFromPlan, type GenerateOptions } from '../generate/index.js';
import { inferenceContext } from './logits.js';

/** What evaluation and prediction need of a session (a training Session is one). */
export interface Predictor {
  plan: Plan;
  model: TaskModel;
  peft: PeftModel;
  tokenizer: TextTokenizer | null;
}

/** One example's prediction. */
export type Prediction =
  | { kind: 'class'; id: number; probs: number[] }
  | { kind: 'value'; value: number }
  | { kind: 'tags'; ids: number[] }
  | { kind: 'text'; text: string }
  | { kind: 'none' };

export interface BatchResult {
  /** Sum of the loss over the batch's labelled units (examples, tokens) and their count. */
  lossSum: number;
  lossCount: number;
  predictions: Prediction[];
  /** References per example, when the batch has labels: class ids, targets, token label lists, texts. */
  references: (number | number[] | string)[] | null;
}

export interface PredictOptions {
  /** Compute the loss (needs labels). Default: when the batch has them. */
  loss?: boolean;
  /** Decode texts (seq2seq, causal LM): for ROUGE/BLEU and predictions. */
  generate?: boolean;
  /** Tokens to generate at most. */
  maxNewTokens?: number;
}

function softmaxRow(x: Float32Array | Int32Array | Uint8Array, off: number, C: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < C; i++) max = Math.max(max, x[off + i] as number);
  const e = Array.from({ length: C }, (_, i) => Math.exp((x[off + i] as number) - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function argmax(x: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if ((x[off + i] as number) > (x[off + best] as number)) best = i;
  return best;
}

/** Ids of a target row without -100 padding. */
function realIds(row: Int32Array): number[] {
  return Array.from(row).filter((v) => v !== IGNORE_INDEX);
}

export function predictBatch(p: Predictor, b: Batch, opts: PredictOptions = {}): BatchResult {
  const task = p.plan.task.type;
  const ctx = inferenceContext(p, b);
  const withLoss = opts.loss ?? Boolean(b.labels || b.tokenLabels || b.targetLabels || task === 'causal-lm');
  const result: BatchResult = { lossSum: 0, lossCount: 0, predictions: [], references: null };
  tf.tidy(() => {
    if ((task === 'causal-lm' || task === 'seq2seq') && !withLoss) return; // only generation is asked for
    const out = p.model.forward(batchInputs(b), ctx);
    switch (task) {
      case 'causal-lm': {
        const { sum, count } = causalLmNll(out.logits as tf.Tensor3D, lmLabels(b, out.logits.shape[1]! - b.seqLen));
        result.lossSum = sum.dataSync()[0]!;
        result.lossCount = count.dataSync()[0]!;
        break;
      }
      case 'regression': {
        const pred = out.logits.dataSync();
        for (let i = 0; i < b.size; i++) result.predictions.push({ kind: 'value', value: pred[i] as number });
        if (b.labels) {
          result.references = Array.from(b.labels);
          for (let i = 0; i < b.size; i++) result.lossSum += ((pred[i] as number) - (b.labels[i] as number)) ** 2;
          result.lossCount = b.size;
        }
        break;
      }
      case 'token-cls': {
        const logits = lastPositions(out.logits, b.seqLen);
        const C = logits.shape[2];
        const data = logits.dataSync();
        const T = b.seqLen;
        const refs: number[][] = [];
        for (let r = 0; r < b.size; r++) {
          const tags: number[] = [];
          const ref: number[] = [];
          for (let t = 0; t < T; t++) {
            const lab = b.tokenLabels![r * T + t] as number;
            if (lab === IGNORE_INDEX) continue; // not a word's first sub-token (or padding)
            tags.push(argmax(data, (r * T + t) * C, C));
            ref.push(lab);
          }
          result.predictions.push({ kind: 'tags', ids: tags });
          refs.push(ref);
        }
        if (withLoss) {
          result.references = refs;
          const labels = tf.tensor1d(b.tokenLabels!, 'int32');
          const count = refs.reduce((n, r) => n + r.length, 0);
          result.lossSum = crossEntropy(tf.reshape(logits, [-1, C]) as tf.Tensor2D, labels).dataSync()[0]! * count;
          result.lossCount = count;
        }
        break;
      }
      case 'seq2seq': {
        if (!b.targetLabels) break;
        const S = b.targetLen!;
        const logits = lastPositions(out.logits, S);
        const V = logits.shape[2];
        const labels = tf.tensor1d(b.targetLabels, 'int32');
        const count = b.targetLabels.reduce((n, v) => n + (v === IGNORE_INDEX ? 0 : 1), 0);
        result.lossSum = crossEntropy(tf.reshape(logits, [-1, V]) as tf.Tensor2D, labels).dataSync()[0]! * count;
        result.lossCount = count;
        break;
      }
      default: {
        // seq-cls, image-cls
        const data = out.logits.dataSync();
        const C = out.logits.shape[1]!;
        for (let r = 0; r < b.size; r++) {
          const probs = softmaxRow(data as Float32Array, r * C, C);
          result.predictions.push({ kind: 'class', id: argmax(probs, 0, C), probs });
        }
        if (b.labels && withLoss) {
          result.references = Array.from(b.labels);
          const labels = tf.tensor1d(Int32Array.from(b.labels), 'int32');
          result.lossSum = crossEntropy(out.logits as tf.Tensor2D, labels).dataSync()[0]! * b.size;
          result.lossCount = b.size;
        }
      }
    }
  });
  if ((task === 'seq2seq' || task === 'causal-lm') && opts.generate) generateTexts(p, b, result, opts.maxNewTokens ?? p.plan.generate?.maxNewTokens ?? 48);
  return result;
}

/** Real (unpadded) ids of each row of a batch's inputs. */
function inputRows(b: Batch): number[][] {
  const T = b.seqLen;
  return Array.from({ length: b.size }, (_, r) => {
    const ids: number[] = [];
    for (let t = 0; t < T; t++) if ((b.attentionMask[r * T + t] as number) > 0) ids.push(b.inputIds[r * T + t] as number);
    return ids;
  });
}

/** Decodes generated ids; a continuation is the decoded whole minus the decoded prompt (keeps a leading space). */
function decodeNew(tok: TextTokenizer, prompt: readonly number[] | null, generated: readonly number[]): string {
  const skip = { skipSpecialTokens: true };
  // a model's embedding table may be larger than its tokenizer's vocabulary (T5: 32,128 vs 32,100): such ids decode to nothing
  const ids = generated.filter((id) => id < tok.vocabSize);
  if (prompt === null) return tok.decode(ids, skip);
  const head = tok.decode(prompt, skip);
  const whole = tok.decode([...prompt, ...ids], skip);
  return whole.startsWith(head) ? whole.slice(head.length) : tok.decode(ids, skip);
}

/** Generated texts (the recipe's generate: settings, else greedy) and, for seq2seq, the reference texts. */
function generateTexts(p: Predictor, b: Batch, result: BatchResult, maxNew: number): void {
  const tok = p.tokenizer;
  if (!tok) return;
  const seq2seq = p.plan.task.type === 'seq2seq';
  const rows = inputRows(b);
  const opts: GenerateOptions = {
    ...(p.plan.generate ? generateOptionsFromPlan(p.plan.generate, p.plan.seed) : { strategy: 'greedy' }),
    maxNewTokens: maxNew,
    eosTokenId: tok.eosId ?? undefined,
    padTokenId: tok.padId ?? undefined,
    numReturnSequences: 1,
  };
  const r = generate(p.model, () => p.peft.context({ training: false }), { inputIds: rows }, opts);
  result.predictions = r.sequences.map((ids, i) => ({ kind: 'text', text: decodeNew(tok, seq2seq ? null : rows[i]!, ids) }));
  if (seq2seq && b.targetLabels) {
    const S = b.targetLen!;
    result.references = Array.from({ length: b.size }, (_, i) => tok.decode(realIds(b.targetLabels!.subarray(i * S, (i + 1) * S)), { skipSpecialTokens: true }));
  }
}
