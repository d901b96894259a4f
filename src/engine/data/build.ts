// The plan's data → tokenised examples per split, checked before any training compute.
import type { Plan, DataSplitPlan } from '../../recipes/types.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import { Batcher, type TokenExample } from './batches.js';
import { tokenizeTextFile, toBlocks } from './lm-blocks.js';
import { PeftError } from '../../errors.js';

export interface BuiltData {
  train: Batcher;
  validation: Batcher | null;
  /** What was read, for the run's summary. */
  stats: Record<string, { examples: number; tokens: number }>;
}

async function lmSplit(split: DataSplitPlan, tok: TextTokenizer, blockSize: number, limit: number | null): Promise<{ examples: TokenExample[]; tokens: number }> {
  if (split.format !== 'text') {
    throw new PeftError('RECIPE', `causal-lm data in ${split.format} format is not supported yet`, { where: split.path, hint: 'use a plain-text file' });
  }
  const maxTokens = limit !== null ? (limit + 1) * blockSize : Infinity;
  const ids = await tokenizeTextFile(split.path, tok, maxTokens);
  const blocks = toBlocks(ids, blockSize, limit);
  return { examples: blocks.map((b) => ({ ids: b })), tokens: ids.length };
}

export async function buildData(plan: Plan, tok: TextTokenizer | null): Promise<BuiltData> {
  if (plan.task.type !== 'causal-lm') {
    throw new PeftError('RECIPE', `task ${plan.task.type} needs the dataset pipeline, which is not available yet`, { where: 'task.type' });
  }
  if (!tok) throw new PeftError('RECIPE', 'causal-lm needs a tokenizer', { where: 'backbone.path' });
  const stats: BuiltData['stats'] = {};
  const pad = tok.padId ?? tok.eosId ?? 0;
  const tr = await lmSplit(plan.data.train!, tok, plan.data.maxLength, plan.data.train!.limit);
  if (tr.examples.length === 0) {
    throw new PeftError('DATA', 'the training split is empty', { where: plan.data.train!.path, hint: 'the file holds no text' });
  }
  stats.train = { examples: tr.examples.length, tokens: tr.tokens };
  const train = new Batcher(tr.examples, plan.training.batchSize, plan.seed, pad);
  let validation: Batcher | null = null;
  if (plan.data.validation) {
    const limit = plan.data.validation.limit ?? plan.eval.limit;
    const va = await lmSplit(plan.data.validation, tok, plan.data.maxLength, limit);
    if (va.examples.length === 0) {
      throw new PeftError('DATA', 'the validation split is empty', { where: plan.data.validation.path });
    }
    stats.validation = { examples: va.examples.length, tokens: va.tokens };
    validation = new Batcher(va.examples, plan.eval.batchSize, plan.seed, pad, false);
  }
  return { train, validation, stats };
}
