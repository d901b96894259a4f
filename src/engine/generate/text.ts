// Generation from and to text for a session: prompts (causal LMs) or sources (encoder-decoders)
// are tokenized with the model's special tokens, generated from in batches with the session's
// PEFT modules attached, and the new tokens decoded without special tokens. Evaluation calls it
// for ROUGE/BLEU; the training run calls it for its sample.
import type { Session } from '../session.js';
import type { TextTokenizer } from '../tokenizers/index.js';
import type { GeneratePlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { Rng } from '../data/rng.js';
import { generate } from './generate.js';
import { SAMPLE_STREAM } from './prepare.js';
import type { GenerateOptions } from './types.js';

export interface TextGenerateOptions extends GenerateOptions {
  /** Inputs per generate call. Default 8. */
  batchSize?: number;
  /** Encoder-decoders: sources are cut to this many tokens. Default: the model's positions (T5: the tokenizer's limit). */
  maxSourceLength?: number;
}

/** The options a recipe's `generate:` section gives (sampling seeded from the recipe's seed). */
export function generateOptionsFromPlan(g: GeneratePlan, seed: number): GenerateOptions {
  return {
    strategy: g.strategy,
    maxNewTokens: g.maxNewTokens,
    minNewTokens: g.minNewTokens,
    temperature: g.temperature,
    topK: g.topK,
    topP: g.topP,
    numBeams: g.numBeams,
    lengthPenalty: g.lengthPenalty,
    noRepeatNgramSize: g.noRepeatNgramSize,
    seed,
  };
}

/** One generated text per source (× numReturnSequences, in order). */
export function generateText(s: Session, sources: readonly string[], opts: TextGenerateOptions): string[] {
  const tok = s.tokenizer;
  if (!tok) throw new PeftError('RUN', 'generation needs the backbone\'s tokenizer, and none was loaded', { where: s.modelDir });
  const seq2seq = s.model.task === 'seq2seq';
  const { batchSize = 8, maxSourceLength, ...gen } = opts;
  const maxSource = maxSourceLength ?? (s.model.family === 't5' ? tok.modelMaxLength : s.model.dims.maxPositions);
  const ids = sources.map((text) => {
    const t = tok.encode(text, { addSpecialTokens: true });
    return seq2seq ? t.slice(0, maxSource) : t;
  });
  const base: GenerateOptions = {
    ...gen,
    eosTokenId: gen.eosTokenId === undefined && tok.eosId !== null ? tok.eosId : gen.eosTokenId,
    padTokenId: gen.padTokenId === undefined && tok.padId !== null ? tok.padId : gen.padTokenId,
  };
  // one generator for every batch: a batch's draws continue the previous batch's
  if (base.strategy === 'sample' && !base.rng) base.rng = Rng.fromSeed(base.seed ?? 0, SAMPLE_STREAM);
  const ctx = () => s.peft.context({ training: false });
  const out: string[] = [];
  const copies = base.strategy === 'greedy' || base.strategy === undefined ? 1 : (base.numReturnSequences ?? 1);
  for (let i = 0; i < ids.length; i += batchSize) {
    const batch = ids.slice(i, i + batchSize);
    const r = generate(s.model, ctx, { inputIds: batch }, base);
    r.sequences.forEach((seq, j) => out.push(seq2seq ? tok.decode(seq, { skipSpecialTokens: true }) : continuation(tok, batch[Math.floor(j / copies)], seq)));
  }
  return out;
}

/**
 * The text a continuation adds to its prompt: the decoded whole minus the decoded prompt, so that
 * a leading space survives (decoding the new ids alone drops it in SentencePiece-style tokenizers).
 */
function continuation(tok: TextTokenizer, prompt: readonly number[], generated: readonly number[]): string {
  const head = tok.decode(prompt, { skipSpecialTokens: true });
  const whole = tok.decode([...prompt, ...generated], { skipSpecialTokens: true });
  return whole.startsWith(head) ? whole.slice(head.length) : tok.decode(generated, { skipSpecialTokens: true });
}
