// The second bench workload: stories260K (assets/models/stories260K, LLaMA, 260 K parameters) as
// a causal LM on a batch of 16 × 128 tokens of Tiny Shakespeare — the start of train.txt read as
// one document (the text source's default), encoded with the model's tokenizer (BOS first) and
// packed into blocks as the data pipeline does. LoRA r=8 α=16 on q_proj/v_proj through the same
// injector; full fine-tuning; inference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadBackbone, type TaskModel } from '../../src/engine/backbones/index.js';
import { loadTokenizer } from '../../src/engine/tokenizers/index.js';
import { BlockPacker } from '../../src/engine/data/lm-blocks.js';
import { causalLmLoss } from '../../src/engine/train/losses.js';
import type { ModelInputs, ModelOutputs } from '../../src/engine/backbones/index.js';
import { PACKAGE_ROOT } from './torch.js';

export const STORIES_DIR = join(PACKAGE_ROOT, 'assets', 'models', 'stories260K');
export const SHAKESPEARE = join(PACKAGE_ROOT, 'assets', 'data', 'tinyshakespeare', 'train.txt');

export const STORIES_BATCH = 16;
export const STORIES_SEQ = 128;

export interface StoriesWorkload {
  /** A fresh model with the checkpoint's weights (each mode injects into its own). */
  model(): TaskModel;
  inputs: ModelInputs;
  lossOf(out: ModelOutputs): tf.Scalar;
  dispose(): void;
}

/** The first `batch` blocks of `seq` tokens of Tiny Shakespeare, [batch·seq] ids. */
export async function shakespeareBlocks(batch = STORIES_BATCH, seq = STORIES_SEQ): Promise<Int32Array> {
  const tok = await loadTokenizer(STORIES_DIR);
  const text = readFileSync(SHAKESPEARE, 'utf8');
  for (let chars = 16_384; ; chars *= 2) {
    const cut = chars >= text.length ? text.length : text.lastIndexOf('\n', chars) + 1;
    const packer = new BlockPacker(seq, batch);
    const blocks = packer.push(tok.encode(text.slice(0, cut)));
    if (blocks.length === batch) {
      const ids = new Int32Array(batch * seq);
      blocks.forEach((b, i) => ids.set(b, i * seq));
      return ids;
    }
    if (cut === text.length) throw new Error(`Tiny Shakespeare gives fewer than ${batch} blocks of ${seq} tokens`);
  }
}

export async function storiesWorkload(): Promise<StoriesWorkload> {
  const ids = await shakespeareBlocks();
  const inputIds = tf.keep(tf.tensor2d(ids, [STORIES_BATCH, STORIES_SEQ], 'int32'));
  // no padding: every position is a label (the loss shifts them)
  const labels = tf.keep(tf.tensor2d(ids, [STORIES_BATCH, STORIES_SEQ], 'int32'));
  return {
    model: () => loadBackbone(STORIES_DIR, { task: 'causal-lm' }).model,
    inputs: { inputIds },
    lossOf: (out) => causalLmLoss(out.logits as tf.Tensor3D, labels),
    dispose: () => tf.dispose([inputIds, labels]),
  };
}
