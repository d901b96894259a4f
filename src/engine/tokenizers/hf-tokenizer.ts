// TextTokenizer over a tokenizer.json object (through @huggingface/tokenizers) and the settings
// of tokenizer_config.json. The library turns text into ids without special tokens; special
// tokens, truncation and padding are ours, so that they follow transformers' rules.
import { Tokenizer } from '@huggingface/tokenizers';
import { PeftError } from '../../errors.js';
import { padRows, pairLengths, truncateIds } from './batch.js';
import { applyTemplate, bosEosTemplate, specialCount, templateFromPostProcessor, type Template } from './template.js';
import { WordCache } from './word-cache.js';
import type {
  BatchEncoding, BatchInput, BatchOptions, DecodeOptions, EncodeOptions, PairEncoding, Side, TextTokenizer,
} from './types.js';

/** The settings that matter here, already resolved from tokenizer_config.json & co. */
export interface TokenizerSettings {
  bosToken?: string | null;
  eosToken?: string | null;
  unkToken?: string | null;
  padToken?: string | null;
  /** When set, these override the tokenizer.json template (as transformers' Llama tokenizer does). */
  addBosToken?: boolean;
  addEosToken?: boolean;
  paddingSide?: Side;
  truncationSide?: Side;
  modelMaxLength?: number;
  cleanUpTokenizationSpaces?: boolean;
  /** Whether batches carry token_type_ids even for single texts (BERT family). */
  returnTokenTypeIds?: boolean;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

export class HfTextTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly unkId: number | null;
  readonly paddingSide: Side;
  readonly truncationSide: Side;
  readonly modelMaxLength: number;
  private readonly tok: Tokenizer;
  private readonly template: Template;
  private readonly returnTypeIds: boolean;
  /** Word-by-word tokenisation with a cache, where it gives the library's ids exactly (word-cache.ts). */
  private readonly words: WordCache | null;

  /**
   * `where` names the source (directory or file) in errors; `libraryConfig` is the raw
   * tokenizer_config.json, handed to the library for the options it reads itself.
   */
  constructor(tokenizerJson: Record<string, unknown>, settings: TokenizerSettings, readonly where: string, libraryConfig: Record<string, unknown> = {}) {
    const json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson };
    const config: Record<string, unknown> = { ...libraryConfig };
    for (const [key, value] of [['bos_token', settings.bosToken], ['eos_token', settings.eosToken], ['unk_token', settings.unkToken], ['pad_token', settings.padToken]] as const) {
      if (value == null) delete config[key];
      else config[key] = value;
    }
    if (settings.cleanUpTokenizationSpaces !== undefined) config.clean_up_tokenization_spaces = settings.cleanUpTokenizationSpaces;
    try {
      this.tok = new Tokenizer(json, config);
    } catch (e) {
      throw new PeftError('FORMAT', `tokenizer cannot be built: ${(e as Error).message}`, {
        where, hint: 'the tokenizer.json is corrupt or uses a component this tokenizer library lacks', cause: e,
      });
    }
    const id = (t: string | null | undefined) => (t == null ? null : this.tokenToId(t));
    this.bosId = id(settings.bosToken);
    this.eosId = id(settings.eosToken);
    this.unkId = id(settings.unkToken);
    this.padId = id(settings.padToken);
    let top = -1;
    for (const i of this.tok.get_vocab(true).values()) top = Math.max(top, i);
    this.vocabSize = top + 1;
    this.paddingSide = settings.paddingSide ?? 'right';
    this.truncationSide = settings.truncationSide ?? 'right';
    const max = settings.modelMaxLength;
    this.modelMaxLength = max !== undefined && Number.isFinite(max) && max > 0 && max < 1e15 ? Math.floor(max) : UNBOUNDED;
    const fromJson = templateFromPostProcessor(json.post_processor, (t) => this.tokenToId(t));
    if (settings.addBosToken !== undefined || settings.addEosToken !== undefined) {
      const startsWithBos = fromJson.single[0]?.special?.[0] === this.bosId && this.bosId !== null;
      this.template = bosEosTemplate(this.bosId, this.eosId, settings.addBosToken ?? startsWithBos, settings.addEosToken ?? false);
    } else {
      this.template = fromJson;
    }
    this.returnTypeIds = settings.returnTokenTypeIds ?? false;
    this.words = WordCache.for(this.tok, json, config);
  }

  tokenToId(token: string): number | null {
    return this.tok.token_to_id(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.tok.id_to_token(id) ?? null;
  }

  /** Ids of the text alone: normalised, pre-tokenised and split by the model, no specials. */
  private raw(text: string): number[] {
    return this.words?.ids(text) ?? this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return applyTemplate(this.template, this.raw(text), null, options.addSpecialTokens ?? true).ids;
  }

  encodePair(a: string, b: string, options: EncodeOptions = {}): PairEncoding {
    const r = applyTemplate(this.template, this.raw(a), this.raw(b), options.addSpecialTokens ?? true);
    return { ids: r.ids, tokenTypeIds: r.typeIds };
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    for (const i of ids) {
      if (!Number.isInteger(i) || i < 0 || i >= this.vocabSize) {
        throw new PeftError('DATA', `token id ${i} is outside the vocabulary (0..${this.vocabSize - 1})`, {
          where: this.where, hint: 'the ids come from a different tokenizer or model',
        });
      }
    }
    return this.tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  batch(texts: readonly BatchInput[], options: BatchOptions = {}): BatchEncoding {
    const add = options.addSpecialTokens ?? true;
    const maxLength = options.maxLength ?? this.modelMaxLength;
    const truncation = options.truncation ?? true;
    const padding = options.padding ?? 'longest';
    if (!(maxLength > 0)) throw new PeftError('USAGE', `maxLength must be positive (got ${maxLength})`);
    let anyPair = false;
    const rows: number[][] = [];
    const types: number[][] = [];
    for (const item of texts) {
      const pair = typeof item !== 'string';
      anyPair ||= pair;
      let a = this.raw(pair ? item[0] : item);
      let b = pair ? this.raw(item[1]) : null;
      if (truncation) {
        const room = maxLength - (add ? specialCount(this.template, pair) : 0);
        if (room < 0) {
          throw new PeftError('USAGE', `maxLength ${maxLength} leaves no room beside the special tokens`, {
            where: this.where, hint: 'use a larger maxLength',
          });
        }
        if (b === null) a = truncateIds(a, room, this.truncationSide);
        else {
          const [n1, n2] = pairLengths(a.length, b.length, room);
          a = truncateIds(a, n1, this.truncationSide);
          b = truncateIds(b, n2, this.truncationSide);
        }
      }
      const r = applyTemplate(this.template, a, b, add);
      rows.push(r.ids);
      types.push(r.typeIds);
    }
    const withTypes = anyPair || this.returnTypeIds;
    if (padding === false) {
      return { inputIds: rows, attentionMask: rows.map((r) => r.map(() => 1)), ...(withTypes ? { tokenTypeIds: types } : {}) };
    }
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const length = padding === 'max_length' ? Math.max(maxLength, longest) : longest;
    const needsPad = rows.some((r) => r.length < length);
    const padId = options.padId ?? this.padId ?? this.eosId;
    if (needsPad && padId === null) {
      throw new PeftError('DATA', 'cannot pad: the tokenizer has no pad token and no eos token', {
        where: this.where, hint: 'set pad_token in tokenizer_config.json, or pass a pad id',
      });
    }
    const out = padRows(rows, withTypes ? types : undefined, length, padId ?? 0, this.paddingSide);
    return { inputIds: out.rows, attentionMask: out.mask, ...(out.types ? { tokenTypeIds: out.types } : {}) };
  }
}
