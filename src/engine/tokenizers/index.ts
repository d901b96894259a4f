// Public face of the tokenizers folder.
export type {
  BatchEncoding, BatchInput, BatchOptions, DecodeOptions, EncodeOptions, PairEncoding, Side, TextTokenizer,
} from './types.js';
export { loadTokenizer, resolveSettings } from './load.js';
export { HfTextTokenizer, type TokenizerSettings } from './hf-tokenizer.js';
export { bertTokenizerJson, byteLevelBpeTokenizerJson, type BertVocabOptions, type ByteLevelBpeOptions } from './legacy.js';
export {
  readLlama2cTokenizer, llama2cTokenizerToHf,
  type HfTokenizerFiles, type Llama2cPiece, type Llama2cTokenizerFile,
} from './llama2c.js';
export { pairLengths, padRows, truncateIds } from './batch.js';
