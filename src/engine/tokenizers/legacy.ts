// Checkpoints without tokenizer.json: their legacy vocabulary files become an equivalent
// tokenizer.json object in memory (what transformers' BertConverter / GPT2Converter build).
import { PeftError } from '../../errors.js';

export interface BertVocabOptions {
  doLowerCase?: boolean;
  /** null: strip accents when lowercasing (BERT's default). */
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
}

/** BERT's vocab.txt (one WordPiece token per line, id = line number) → tokenizer.json. */
export function bertTokenizerJson(vocabTxt: string, options: BertVocabOptions = {}): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  const lines = vocabTxt.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    vocab[line.endsWith('\r') ? line.slice(0, -1) : line] = i;
  });
  const unk = options.unkToken ?? '[UNK]';
  const cls = options.clsToken ?? '[CLS]';
  const sep = options.sepToken ?? '[SEP]';
  const specials = [options.padToken ?? '[PAD]', unk, cls, sep, options.maskToken ?? '[MASK]'];
  for (const t of [cls, sep]) {
    if (!Object.hasOwn(vocab, t)) {
      throw new PeftError('FORMAT', `vocab.txt has no ${t} token`, { hint: 'set cls_token/sep_token in tokenizer_config.json to the tokens this vocabulary uses' });
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(specials, vocab, false),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: options.tokenizeChineseChars ?? true,
      strip_accents: options.stripAccents ?? null,
      lowercase: options.doLowerCase ?? true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(cls, 0), sequence('A', 0), special(sep, 0)],
      pair: [special(cls, 0), sequence('A', 0), special(sep, 0), sequence('B', 1), special(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [vocab[cls]], tokens: [cls] },
        [sep]: { id: sep, ids: [vocab[sep]], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export interface ByteLevelBpeOptions {
  addPrefixSpace?: boolean;
  /** Tokens of the vocabulary that are special (e.g. <|endoftext|>). */
  specialTokens?: string[];
}

/** GPT-2's vocab.json + merges.txt (byte-level BPE) → tokenizer.json. */
export function byteLevelBpeTokenizerJson(vocabJson: string, mergesTxt: string, options: ByteLevelBpeOptions = {}): Record<string, unknown> {
  let vocab: unknown;
  try {
    vocab = JSON.parse(vocabJson);
  } catch (e) {
    throw new PeftError('FORMAT', `vocab.json is not valid JSON (${(e as Error).message})`, { hint: 'the file is corrupt; download it again' });
  }
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab) || !Object.values(vocab).every((v) => Number.isInteger(v))) {
    throw new PeftError('FORMAT', 'vocab.json is not an object of token → id', { hint: 'the file is corrupt; download it again' });
  }
  const merges: [string, string][] = [];
  mergesTxt.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new PeftError('FORMAT', `merges.txt line ${i + 1} is not two tokens separated by one space`, {
        hint: 'the file is corrupt; download it again',
      });
    }
    merges.push([parts[0], parts[1]]);
  });
  const v = vocab as Record<string, number>;
  const byteLevel = { add_prefix_space: options.addPrefixSpace ?? false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(options.specialTokens ?? [], v, true),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: v,
      merges,
    },
  };
}

function addedTokens(tokens: string[], vocab: Record<string, number>, normalized: boolean) {
  const seen = new Set<string>();
  return tokens
    .filter((t) => Object.hasOwn(vocab, t) && !seen.has(t) && seen.add(t))
    .map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized, special: true }))
    .sort((a, b) => a.id - b.id);
}

const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
