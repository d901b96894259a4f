import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTokenizer } from '../../../src/engine/tokenizers/index.js';
import { PeftError } from '../../../src/errors.js';
import { SKIP_NO_SHARED } from '../../helpers/fixtures.js';

const TMP = mkdtempSync(join(tmpdir(), 'peft-load-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The project's shared data, beside the repository. */
const SHARED = resolve(import.meta.dirname, '../../../../shared');

const TOKS = join(SHARED, 'data/tokenizers');
const BERT = join(TOKS, 'bert-base-uncased');
const GPT2 = join(TOKS, 'gpt2');

/** A fresh directory holding copies of `files` from `src` (and optional extra files). */
function dirWith(src: string, files: string[], extra: Record<string, unknown> = {}): string {
  const d = mkdtempSync(join(TMP, 'd-'));
  for (const f of files) copyFileSync(join(src, f), join(d, f));
  for (const [f, v] of Object.entries(extra)) writeFileSync(join(d, f), typeof v === 'string' ? v : JSON.stringify(v));
  return d;
}

const SENTENCES = [
  ...(SKIP_NO_SHARED ? [] : readFileSync(join(SHARED, 'data/tinyshakespeare/val.txt'), 'utf8').split('\n')),
  'Hello world, PEFT tokenizers!', 'The QUICK brown fox — jumped over 13 lazy dogs.', "Don't stop; it's fine, isn't it?",
  'Café naïve résumé Ångström Zürich', '中文字符 and 日本語 mixed', 'emoji 😀 👍🏽 and symbols ©®™ €£¥', 'tabs\tand\nnewlines\r\n',
  '   multiple   spaces   ', 'unbelievably antidisestablishmentarianism', 'e-mail: someone@example.com, url: https://x.y/z?q=1',
  '$1,234.56 (approx.) [brackets] {braces} <angle>', 'Ελληνικά кириллица עברית العربية', '',
];

describe('bert-base-uncased', { skip: SKIP_NO_SHARED }, () => {
  test('tokenizer.json gives the known ids and BERT special ids', async () => {
    const t = await loadTokenizer(BERT);
    assert.deepEqual(t.encode('Hello world, PEFT tokenizers!'), [101, 7592, 2088, 1010, 21877, 6199, 19204, 17629, 2015, 999, 102]);
    assert.deepEqual([t.bosId, t.eosId, t.padId, t.unkId, t.vocabSize], [null, null, 0, 100, 30522]);
    assert.equal(t.decode(t.encode('Hello world, PEFT tokenizers!'), { skipSpecialTokens: true }), 'hello world, peft tokenizers!');
    assert.equal(t.decode(t.encode('Hello world')), '[CLS] hello world [SEP]');
  });

  test('vocab.txt alone (WordPiece built in memory) gives the same ids as tokenizer.json', async () => {
    const json = await loadTokenizer(BERT);
    const legacy = await loadTokenizer(dirWith(BERT, ['vocab.txt']));
    for (const s of SENTENCES) {
      assert.deepEqual(legacy.encode(s), json.encode(s), JSON.stringify(s));
      assert.deepEqual(legacy.encodePair(s, 'second part'), json.encodePair(s, 'second part'));
    }
    assert.deepEqual([legacy.padId, legacy.unkId, legacy.vocabSize], [0, 100, 30522]);
  });

  test('do_lower_case false in tokenizer_config.json keeps case with vocab.txt', async () => {
    const t = await loadTokenizer(dirWith(BERT, ['vocab.txt'], { 'tokenizer_config.json': { do_lower_case: false } }));
    assert.deepEqual(t.encode('Hello', { addSpecialTokens: false }), [100]); // "Hello" is not in an uncased vocabulary
  });

  test('pair encoding has BERT token_type_ids', async () => {
    const t = await loadTokenizer(BERT);
    const r = t.encodePair('How old are you?', 'I am six.');
    assert.deepEqual(r.ids, [101, 2129, 2214, 2024, 2017, 1029, 102, 1045, 2572, 2416, 1012, 102]);
    assert.deepEqual(r.tokenTypeIds, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(t.encodePair('a', 'b', { addSpecialTokens: false }), { ids: [1037, 1038], tokenTypeIds: [0, 1] });
  });

  test('batch: truncation keeps the specials, pairs truncate longest first, padding with [PAD], type ids always', async () => {
    const t = await loadTokenizer(BERT);
    const b = t.batch(['one two three four five six seven', ['a b', 'c d e f g h i j'], 'hi'], { maxLength: 7 });
    assert.deepEqual(b.inputIds[0], [101, 2028, 2048, 2093, 2176, 2274, 102]);
    assert.deepEqual(b.inputIds[1], [101, 1037, 1038, 102, 1039, 1040, 102]);
    assert.deepEqual(b.tokenTypeIds?.[1], [0, 0, 0, 0, 1, 1, 1]);
    assert.deepEqual(b.inputIds[2], [101, 7632, 102, 0, 0, 0, 0]);
    assert.deepEqual(b.attentionMask[2], [1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(b.tokenTypeIds?.[2], [0, 0, 0, 0, 0, 0, 0]);
    const single = t.batch(['hi'], { padding: 'max_length', maxLength: 5 });
    assert.deepEqual(single.inputIds, [[101, 7632, 102, 0, 0]]);
    assert.deepEqual(single.tokenTypeIds, [[0, 0, 0, 0, 0]]);
    const none = t.batch(['hi', 'hello there'], { padding: false });
    assert.deepEqual(none.inputIds, [[101, 7632, 102], [101, 7592, 2045, 102]]);
    const uncut = t.batch(['one two three four five six seven'], { maxLength: 4, truncation: false });
    assert.equal(uncut.inputIds[0].length, 9);
    assert.throws(() => t.batch(['x'], { maxLength: 1 }), /no room beside the special tokens/);
  });

  test('truncation_side and padding_side from tokenizer_config.json', async () => {
    const t = await loadTokenizer(dirWith(BERT, ['tokenizer.json'], { 'tokenizer_config.json': { padding_side: 'left', truncation_side: 'left', model_max_length: 5 } }));
    assert.equal(t.modelMaxLength, 5);
    const b = t.batch(['one two three four five', 'hi']);
    assert.deepEqual(b.inputIds[0], [101, 2093, 2176, 2274, 102]);
    assert.deepEqual(b.inputIds[1], [0, 0, 101, 7632, 102]);
    assert.deepEqual(b.attentionMask[1], [0, 0, 1, 1, 1]);
  });
});

describe('gpt2', { skip: SKIP_NO_SHARED }, () => {
  test('tokenizer.json: "Hello world" → [15496, 995]; <|endoftext|> is bos, eos and unk; no pad', async () => {
    const t = await loadTokenizer(GPT2);
    assert.deepEqual(t.encode('Hello world'), [15496, 995]);
    assert.deepEqual([t.bosId, t.eosId, t.unkId, t.padId, t.vocabSize], [50256, 50256, 50256, null, 50257]);
    assert.equal(t.decode(t.encode(' Héllo  wörld\n\ttab 😀')), ' Héllo  wörld\n\ttab 😀');
    assert.deepEqual(t.encode('a<|endoftext|>b'), [64, 50256, 65]);
    assert.equal(t.decode([64, 50256, 65], { skipSpecialTokens: true }), 'ab');
    assert.equal(t.decode([]), '');
    assert.throws(() => t.decode([60000]), (e: unknown) => e instanceof PeftError && e.code === 'DATA');
  });

  test('vocab.json + merges.txt (byte-level BPE built in memory) give the same ids as tokenizer.json', async () => {
    const json = await loadTokenizer(GPT2);
    const legacy = await loadTokenizer(dirWith(GPT2, ['vocab.json', 'merges.txt']));
    for (const s of SENTENCES) assert.deepEqual(legacy.encode(s), json.encode(s), JSON.stringify(s));
    assert.deepEqual([legacy.bosId, legacy.eosId, legacy.unkId, legacy.padId, legacy.vocabSize], [50256, 50256, 50256, null, 50257]);
    assert.deepEqual(legacy.encode('Hello world'), [15496, 995]);
    assert.equal(legacy.decode(legacy.encode('Héllo wörld')), 'Héllo wörld');
  });

  test('batch pads with eos when there is no pad token; left padding from the config; pad id override', async () => {
    const t = await loadTokenizer(GPT2);
    const b = t.batch(['Hello world', 'Hello']);
    assert.deepEqual(b.inputIds, [[15496, 995], [15496, 50256]]);
    assert.deepEqual(b.attentionMask, [[1, 1], [1, 0]]);
    assert.equal(b.tokenTypeIds, undefined);
    assert.deepEqual(t.batch(['Hello world', 'Hello'], { padId: 7 }).inputIds[1], [15496, 7]);
    const left = await loadTokenizer(dirWith(GPT2, ['tokenizer.json'], { 'tokenizer_config.json': { padding_side: 'left', pad_token: '<|endoftext|>' } }));
    assert.equal(left.padId, 50256);
    assert.deepEqual(left.batch(['Hello world', 'Hello']).inputIds[1], [50256, 15496]);
    assert.deepEqual(left.batch(['Hello world', 'Hello']).attentionMask[1], [0, 1]);
    assert.deepEqual(t.encodePair('Hello', ' world'), { ids: [15496, 995], tokenTypeIds: [0, 1] });
  });

  test('add_bos_token / add_eos_token in tokenizer_config.json add the special tokens', async () => {
    const t = await loadTokenizer(dirWith(GPT2, ['tokenizer.json'], { 'tokenizer_config.json': { add_bos_token: true, add_eos_token: true } }));
    assert.deepEqual(t.encode('Hello world'), [50256, 15496, 995, 50256]);
    assert.deepEqual(t.encode('Hello world', { addSpecialTokens: false }), [15496, 995]);
    assert.deepEqual(t.batch(['Hello world there'], { maxLength: 3 }).inputIds, [[50256, 15496, 50256]]);
  });

  test('special tokens may be AddedToken objects in tokenizer_config.json; unbounded model_max_length', async () => {
    const t = await loadTokenizer(dirWith(GPT2, ['tokenizer.json'], {
      'tokenizer_config.json': { eos_token: { __type: 'AddedToken', content: '<|endoftext|>' }, bos_token: null, model_max_length: 1e30 },
    }));
    assert.deepEqual([t.bosId, t.eosId], [null, 50256]);
    assert.equal(t.modelMaxLength, Number.MAX_SAFE_INTEGER);
  });
});

describe('errors', { skip: SKIP_NO_SHARED }, () => {
  test('a directory without a tokenizer is a one-line FILE error naming it and the files looked for', async () => {
    const d = mkdtempSync(join(TMP, 'd-'));
    await assert.rejects(loadTokenizer(d), (e: unknown) => {
      assert.ok(e instanceof PeftError);
      assert.equal(e.code, 'FILE');
      assert.equal(e.where, d);
      assert.match(e.message, /tokenizer\.json, vocab\.txt, vocab\.json \+ merges\.txt/);
      assert.ok(!e.toLine().includes('\n'));
      return true;
    });
    // vocab.json without merges.txt is not a tokenizer either
    await assert.rejects(loadTokenizer(dirWith(GPT2, ['vocab.json'])), /no tokenizer found/);
  });

  test('corrupt files are FORMAT errors naming the file', async () => {
    const d1 = dirWith(BERT, [], { 'tokenizer.json': '{"model": ' });
    await assert.rejects(loadTokenizer(d1), (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && e.where === join(d1, 'tokenizer.json'));
    const d2 = dirWith(BERT, ['tokenizer.json'], { 'tokenizer_config.json': '[1, 2]' });
    await assert.rejects(loadTokenizer(d2), (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && e.where === join(d2, 'tokenizer_config.json'));
    const d3 = dirWith(BERT, [], { 'tokenizer.json': { model: { type: 'Martian' } } });
    await assert.rejects(loadTokenizer(d3), (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && /cannot be built/.test(e.message));
    const d4 = dirWith(GPT2, ['vocab.json'], { 'merges.txt': '#version: 0.2\na b c\n' });
    await assert.rejects(loadTokenizer(d4), (e: unknown) => e instanceof PeftError && e.code === 'FORMAT' && /merges\.txt line 2/.test(e.message) && e.where === join(d4, 'vocab.json'));
  });
});
