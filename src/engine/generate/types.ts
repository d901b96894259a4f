// What generation takes and gives: prompts (causal LMs) or sources (encoder-decoders) as token
// ids, the decoding options, and the generated ids.
import type { Rng } from '../data/rng.js';

export type Strategy = 'greedy' | 'sample' | 'beam';

export interface GenerateInputs {
  /**
   * Causal LMs: the prompts (continued after their last token). Encoder-decoders: the encoder
   * inputs. Rows may differ in length: they are padded (prompts on the left, sources on the right).
   */
  inputIds: number[][];
  /** 1 for real tokens, 0 for padding; rows as long as inputIds' rows. Default: every given token is real. */
  attentionMask?: number[][];
}

export interface GenerateOptions {
  /** Default greedy. */
  strategy?: Strategy;
  /** Tokens to generate at most (eos included); also limited by the model's learned positions. */
  maxNewTokens: number;
  /** eos is forbidden until this many tokens were generated (transformers' min_new_tokens). Default 0. */
  minNewTokens?: number;
  /** sample: softmax temperature (> 0). Default 1. */
  temperature?: number;
  /** sample: keep the k most likely tokens (ties with the k-th kept); 0 keeps all. Default 0. */
  topK?: number;
  /** sample: keep the most likely tokens until their probability reaches top_p (nucleus); 1 keeps all. Default 1. */
  topP?: number;
  /** sample: seed of the generator (xoshiro128**, stream 7). Default 0. */
  seed?: number;
  /** sample: the generator itself (overrides seed). */
  rng?: Rng;
  /** beam: number of beams. Default 4. */
  numBeams?: number;
  /** beam: a finished hypothesis scores sum_logprobs / generated_len ** length_penalty. Default 1. */
  lengthPenalty?: number;
  /**
   * beam: when a batch row stops (transformers' early_stopping): `false` (default) when the best
   * running beam, scored at the current length, cannot beat the worst of num_beams finished
   * hypotheses; `true` as soon as num_beams hypotheses finished; `'never'` only when no beam can
   * beat them at any length up to the maximum (exact).
   */
  earlyStopping?: boolean | 'never';
  /** Sequences returned per input: beam: the best hypotheses (≤ numBeams); sample: independent draws. Default 1. */
  numReturnSequences?: number;
  /** No n-gram of this size occurs twice in a row's tokens (prompt included); 0 off. Default 0. */
  noRepeatNgramSize?: number;
  /** End-of-sequence token(s). Default: the model config's eos_token_id. */
  eosTokenId?: number | number[] | null;
  /** Fed to finished rows and used for padding prompts. Default: config pad_token_id, else the first eos, else 0. */
  padTokenId?: number | null;
  /** Encoder-decoders: the decoder's first token. Default: config decoder_start_token_id, else the pad id. */
  decoderStartTokenId?: number;
  /**
   * Keep keys/values across steps (default true): each step feeds one new token per row. false
   * recomputes every position on every step (the reference the cache is tested against).
   */
  useCache?: boolean;
  /** Observes each step's last-position logits, one row per sequence being decoded (before any processing). */
  onStep?(step: number, logits: readonly Float32Array[]): void;
}

export interface GenerateResult {
  /**
   * Per input (× numReturnSequences, in input order): the generated tokens, eos included when one
   * was generated, nothing after it. Causal LMs: the continuation after the prompt; encoder-decoders:
   * the decoder's tokens after its start token.
   */
  sequences: number[][];
  /** beam: each sequence's score (sum of log-probabilities / length ** length_penalty). */
  scores?: number[];
}
