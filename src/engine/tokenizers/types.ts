// The tokenizer interface the rest of peft uses, whatever files a checkpoint ships.

export type Side = 'left' | 'right';

export interface EncodeOptions {
  /** Add the model's special tokens (BOS, [CLS]/[SEP], …) as its template says. Default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS/EOS/PAD/…) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

export interface PairEncoding {
  ids: number[];
  /** 0 for the first sequence (and its specials), 1 for the second, as the template says. */
  tokenTypeIds: number[];
}

/** A batch row is one text or a pair of texts (sentence-pair tasks). */
export type BatchInput = string | readonly [string, string];

export interface BatchOptions {
  /** Longest row allowed, special tokens included. Default: the tokenizer's modelMaxLength. */
  maxLength?: number;
  /** Cut rows longer than maxLength (pairs: longest first). Default true. */
  truncation?: boolean;
  /** 'longest' pads to the longest row, 'max_length' to maxLength, false not at all. Default 'longest'. */
  padding?: 'longest' | 'max_length' | false;
  addSpecialTokens?: boolean;
  /** Pad id to use when the tokenizer has none. Default: padId, else eosId, else an error. */
  padId?: number;
}

export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
  /** Present when any row is a pair or the template assigns type ids (BERT). */
  tokenTypeIds?: number[][];
}

export interface TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly unkId: number | null;
  readonly paddingSide: Side;
  readonly truncationSide: Side;
  /** Longest input the model takes (Number.MAX_SAFE_INTEGER when the checkpoint sets none). */
  readonly modelMaxLength: number;
  encode(text: string, options?: EncodeOptions): number[];
  encodePair(a: string, b: string, options?: EncodeOptions): PairEncoding;
  decode(ids: readonly number[], options?: DecodeOptions): string;
  tokenToId(token: string): number | null;
  idToToken(id: number): string | null;
  batch(texts: readonly BatchInput[], options?: BatchOptions): BatchEncoding;
}
