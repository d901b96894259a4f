// llama2.c's tokenizer export (tok512.bin, tokenizer.bin) → a Hugging Face tokenizer.json that
// encodes exactly as llama2.c's run.c does.
//
// File: int32 max_token_length; then per token: float32 score, int32 len, len UTF-8 bytes.
// Ids 0/1/2 are <unk>, "\n<s>\n", "\n</s>\n"; 3..258 are the byte pieces <0x00>..<0xFF>; the
// SentencePiece "▁" is stored as a space.
// run.c: prepend " " (if the text is not empty), split into UTF-8 characters (unknown ones
// become byte pieces, id = byte + 3), then repeatedly merge the adjacent pair whose
// concatenation is a piece with the highest score (the leftmost on ties).
// HF equivalent: normalizer Prepend("▁") + Replace(" " → "▁"), no pre-tokenizer, BPE with
// byte_fallback whose merges are every split (left, right) of every piece, ranked by the
// piece's score, as transformers' LlamaConverter builds them from a SentencePiece model.
import { readFileSync } from 'node:fs';
import { PeftError } from '../../errors.js';

export interface Llama2cPiece {
  text: string;
  score: number;
}
export interface Llama2cTokenizerFile {
  maxTokenLength: number;
  pieces: Llama2cPiece[];
}

const SPACE = '▁';
const BYTE_BASE = 3;
const HINT = 'the file is truncated or is not a llama2.c tokenizer export (tokenizer.bin / tok512.bin)';

/** Reads a llama2.c tokenizer file; `vocabSize` (from the model header) must match its size. */
export function readLlama2cTokenizer(path: string, vocabSize?: number): Llama2cTokenizerFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new PeftError('FILE', 'cannot read the tokenizer file', { where: path, hint: 'check the --tokenizer path', cause: e });
  }
  const bad = (msg: string) => new PeftError('FORMAT', msg, { where: path, hint: HINT });
  if (buf.length < 4) throw bad(`file is ${buf.length} bytes, too short for a tokenizer`);
  const maxTokenLength = buf.readInt32LE(0);
  if (maxTokenLength <= 0 || maxTokenLength > 1024) throw bad(`max_token_length ${maxTokenLength} is not plausible`);
  const pieces: Llama2cPiece[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let off = 4;
  while (off < buf.length) {
    if (off + 8 > buf.length) throw bad(`token ${pieces.length} is cut off at byte ${off}`);
    const score = buf.readFloatLE(off);
    const len = buf.readInt32LE(off + 4);
    if (len <= 0 || len > maxTokenLength || off + 8 + len > buf.length) {
      throw bad(`token ${pieces.length} has length ${len} at byte ${off + 4} (max_token_length ${maxTokenLength}, file ${buf.length} bytes)`);
    }
    let text: string;
    try {
      text = utf8.decode(buf.subarray(off + 8, off + 8 + len));
    } catch {
      throw bad(`token ${pieces.length} is not valid UTF-8`);
    }
    pieces.push({ text, score });
    off += 8 + len;
  }
  if (vocabSize !== undefined && pieces.length !== vocabSize) {
    throw bad(`holds ${pieces.length} tokens but the model's vocab_size is ${vocabSize}`);
  }
  for (let b = 0; b < 256; b++) {
    const want = byteToken(b);
    if (pieces[BYTE_BASE + b]?.text !== want) {
      throw bad(`token ${BYTE_BASE + b} is ${JSON.stringify(pieces[BYTE_BASE + b]?.text)}, expected the byte piece ${want}`);
    }
  }
  return { maxTokenLength, pieces };
}

export interface HfTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  specialTokensMap: Record<string, unknown>;
}

/** Builds tokenizer.json, tokenizer_config.json and special_tokens_map.json objects. */
export function llama2cTokenizerToHf(tok: Llama2cTokenizerFile, opts: { modelMaxLength: number; where?: string }): HfTokenizerFiles {
  const special = ['<unk>', '<s>', '</s>'];
  const names = tok.pieces.map((p, id) => (id < 3 ? special[id] : id < BYTE_BASE + 256 ? p.text : p.text.replaceAll(' ', SPACE)));
  const vocab: Record<string, number> = {};
  names.forEach((name, id) => {
    if (Object.hasOwn(vocab, name)) {
      throw new PeftError('FORMAT', `token ${id} ${JSON.stringify(name)} duplicates token ${vocab[name]}`, {
        where: opts.where, hint: HINT,
      });
    }
    vocab[name] = id;
  });
  const added = special.map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const bosTemplate = { SpecialToken: { id: '<s>', type_id: 0 } };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPACE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bosTemplate, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bosTemplate, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: buildMerges(names, tok.pieces),
    },
  };
  const addedTokensDecoder = Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest]));
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: '<s>',
    clean_up_tokenization_spaces: false,
    eos_token: '</s>',
    legacy: true,
    model_max_length: opts.modelMaxLength,
    pad_token: null,
    padding_side: 'right',
    tokenizer_class: 'LlamaTokenizerFast',
    truncation_side: 'right',
    unk_token: '<unk>',
  };
  const specialTokensMap = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' };
  return { tokenizerJson, tokenizerConfig, specialTokensMap };
}

/**
 * Every split of every ordinary piece into two ordinary pieces, best merged score first; for
 * one merged piece, ordered by the ids of its halves. Byte and special pieces never merge.
 */
function buildMerges(names: string[], pieces: Llama2cPiece[]): [string, string][] {
  const first = BYTE_BASE + 256;
  const ordinary = new Map<string, number>();
  for (let id = first; id < names.length; id++) ordinary.set(names[id], id);
  const merges: { left: string; right: string; score: number; id: number; l: number; r: number }[] = [];
  for (let id = first; id < names.length; id++) {
    const chars = Array.from(names[id]);
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join('');
      const right = chars.slice(k).join('');
      const l = ordinary.get(left);
      const r = ordinary.get(right);
      if (l !== undefined && r !== undefined) merges.push({ left, right, score: pieces[id].score, id, l, r });
    }
  }
  merges.sort((a, b) => b.score - a.score || a.id - b.id || a.l - b.l || a.r - b.r);
  return merges.map((m) => [m.left, m.right]);
}

function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}
