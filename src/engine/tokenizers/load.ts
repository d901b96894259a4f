// loadTokenizer(modelDir): tokenizer.json (+ tokenizer_config.json, special_tokens_map.json),
// else BERT's vocab.txt, else GPT-2's vocab.json + merges.txt.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PeftError } from '../../errors.js';
import { HfTextTokenizer, type TokenizerSettings } from './hf-tokenizer.js';
import { bertTokenizerJson, byteLevelBpeTokenizerJson } from './legacy.js';
import type { Side, TextTokenizer } from './types.js';

type Json = Record<string, unknown>;

const LOOKED_FOR = 'tokenizer.json, vocab.txt, vocab.json + merges.txt';

/** Loads the tokenizer a Hugging Face model directory ships. */
export async function loadTokenizer(modelDir: string): Promise<TextTokenizer> {
  const config = { ...(await readJsonIfExists(join(modelDir, 'special_tokens_map.json'))), ...(await readJsonIfExists(join(modelDir, 'tokenizer_config.json'))) };
  const tokenizerJsonPath = join(modelDir, 'tokenizer.json');
  if (await exists(tokenizerJsonPath)) {
    const json = await readJsonIfExists(tokenizerJsonPath);
    return new HfTextTokenizer(json ?? {}, resolveSettings(json ?? {}, config), tokenizerJsonPath, config);
  }
  const vocabTxt = join(modelDir, 'vocab.txt');
  if (await exists(vocabTxt)) {
    const text = await readText(vocabTxt);
    const json = withWhere(vocabTxt, () => bertTokenizerJson(text, {
      doLowerCase: bool(config.do_lower_case),
      stripAccents: typeof config.strip_accents === 'boolean' ? config.strip_accents : null,
      tokenizeChineseChars: bool(config.tokenize_chinese_chars),
      unkToken: tokenName(config.unk_token) ?? undefined,
      clsToken: tokenName(config.cls_token) ?? undefined,
      sepToken: tokenName(config.sep_token) ?? undefined,
      padToken: tokenName(config.pad_token) ?? undefined,
      maskToken: tokenName(config.mask_token) ?? undefined,
    }));
    return new HfTextTokenizer(json, resolveSettings(json, config), vocabTxt, config);
  }
  const vocabJson = join(modelDir, 'vocab.json');
  const mergesTxt = join(modelDir, 'merges.txt');
  if ((await exists(vocabJson)) && (await exists(mergesTxt))) {
    const specials = ['bos_token', 'eos_token', 'unk_token', 'pad_token'].map((k) => tokenName(config[k])).filter((t): t is string => !!t);
    const vocabText = await readText(vocabJson);
    const mergesText = await readText(mergesTxt);
    const json = withWhere(vocabJson, () => byteLevelBpeTokenizerJson(vocabText, mergesText, {
      addPrefixSpace: bool(config.add_prefix_space),
      specialTokens: specials.length > 0 ? specials : ['<|endoftext|>'],
    }));
    return new HfTextTokenizer(json, resolveSettings(json, config), vocabJson, config);
  }
  throw new PeftError('FILE', `no tokenizer found (looked for ${LOOKED_FOR})`, {
    where: modelDir, hint: 'point at a Hugging Face model directory that ships its tokenizer',
  });
}

/** tokenizer_config.json settings, with special tokens inferred from the vocabulary when unset. */
export function resolveSettings(tokenizerJson: Json, config: Json): TokenizerSettings {
  const model = isObject(tokenizerJson.model) ? tokenizerJson.model : {};
  const vocab = isObject(model.vocab) ? model.vocab : {};
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens.filter(isObject).map((t) => String(t.content)) : [];
  const known = (t: string) => Object.hasOwn(vocab, t) || added.includes(t) || (Array.isArray(model.vocab) && model.vocab.some((p: unknown) => Array.isArray(p) && p[0] === t));
  const pick = (key: string, candidates: (string | null | undefined)[]): string | null => {
    if (Object.hasOwn(config, key)) return tokenName(config[key]);
    return candidates.find((c): c is string => typeof c === 'string' && known(c)) ?? null;
  };
  const modelType = typeof model.type === 'string' ? model.type
    : Object.hasOwn(model, 'continuing_subword_prefix') && !Object.hasOwn(model, 'merges') ? 'WordPiece' : undefined;
  const inputNames = Array.isArray(config.model_input_names) ? config.model_input_names : null;
  const padding = isObject(tokenizerJson.padding) ? tokenizerJson.padding : {};
  const max = typeof config.model_max_length === 'number' ? config.model_max_length : undefined;
  return {
    bosToken: pick('bos_token', ['<s>', '<|begin_of_text|>', '<|endoftext|>']),
    eosToken: pick('eos_token', ['</s>', '<|end_of_text|>', '<|endoftext|>']),
    unkToken: pick('unk_token', [typeof model.unk_token === 'string' ? model.unk_token : null, '<unk>', '[UNK]', '<|endoftext|>']),
    padToken: pick('pad_token', ['<pad>', '[PAD]']),
    addBosToken: bool(config.add_bos_token),
    addEosToken: bool(config.add_eos_token),
    paddingSide: side(config.padding_side) ?? side(String(padding.direction ?? '').toLowerCase()),
    truncationSide: side(config.truncation_side),
    modelMaxLength: max,
    cleanUpTokenizationSpaces: bool(config.clean_up_tokenization_spaces),
    returnTokenTypeIds: inputNames ? inputNames.includes('token_type_ids') : modelType === 'WordPiece',
  };
}

/** A special token entry is a string or an AddedToken object {content, …}. */
function tokenName(x: unknown): string | null {
  if (typeof x === 'string') return x;
  if (isObject(x) && typeof x.content === 'string') return x.content;
  return null;
}

async function readJsonIfExists(path: string): Promise<Json | null> {
  if (!(await exists(path))) return null;
  const text = await readText(path);
  try {
    const v = JSON.parse(text);
    if (!isObject(v)) throw new Error('not a JSON object');
    return v;
  } catch (e) {
    throw new PeftError('FORMAT', `not valid JSON (${(e as Error).message})`, { where: path, hint: 'the file is corrupt; download it again' });
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new PeftError('FILE', 'cannot read the file', { where: path, hint: 'check its permissions', cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function withWhere<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PeftError && !e.where) throw new PeftError(e.code, e.message, { where, hint: e.hint, cause: e });
    throw e;
  }
}

function bool(x: unknown): boolean | undefined {
  return typeof x === 'boolean' ? x : undefined;
}

function side(x: unknown): Side | undefined {
  return x === 'left' || x === 'right' ? x : undefined;
}

function isObject(x: unknown): x is Record<string, any> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
