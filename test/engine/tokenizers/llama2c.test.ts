import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertLlama2c } from '../../../src/engine/io/llama2c.js';
import { loadTokenizer, readLlama2cTokenizer, type TextTokenizer } from '../../../src/engine/tokenizers/index.js';
import { PeftError } from '../../../src/errors.js';
import { SKIP_NO_SHARED } from '../../helpers/fixtures.js';

const TMP = mkdtempSync(join(tmpdir(), 'peft-tok-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The project's shared data, beside the repository. */
const SHARED = resolve(import.meta.dirname, '../../../../shared');

const SRC = join(SHARED, 'models/stories260K');
const TOK = join(SRC, 'tok512.bin');
const VAL = join(SHARED, 'data/tinyshakespeare/val.txt');

/**
 * llama2.c run.c's encode, written from its description: optional BOS, a dummy-prefix " "
 * token when the text is not empty, UTF-8 characters looked up as pieces (else one byte piece
 * per byte, id = byte + 3), then repeatedly merge the leftmost adjacent pair whose
 * concatenation is a piece with the highest score.
 */
function runcEncode(pieces: { text: string; score: number }[], text: string, bos: boolean, eos: boolean): number[] {
  const lookup = new Map<string, number>();
  pieces.forEach((p, i) => { if (!lookup.has(p.text)) lookup.set(p.text, i); });
  const toks: number[] = [];
  if (bos) toks.push(1);
  if (text !== '') toks.push(lookup.get(' ')!);
  for (const ch of text) {
    const id = lookup.get(ch);
    if (id !== undefined) toks.push(id);
    else for (const b of Buffer.from(ch, 'utf8')) toks.push(b + 3);
  }
  for (;;) {
    let best = -1e10;
    let at = -1;
    let bestId = -1;
    for (let i = 0; i + 1 < toks.length; i++) {
      const id = lookup.get(pieces[toks[i]].text + pieces[toks[i + 1]].text);
      if (id !== undefined && pieces[id].score > best) {
        best = pieces[id].score;
        at = i;
        bestId = id;
      }
    }
    if (at < 0) break;
    toks.splice(at, 2, bestId);
  }
  if (eos) toks.push(2);
  return toks;
}

const STORIES = [
  'Once upon a time, there was a little girl named Lily.',
  'She loved to play outside in the park with her friend Tim.',
  'One day, they saw a big red ball. "Can I play too?" asked the dog.',
  'Tom was sad. He said, "I am sorry, Mom." His mom hugged him and smiled.',
  'The sun was shining and the birds were singing. Everyone was happy!',
  'Timmy\'s toy car went zoom, zoom, zoom… across the floor — fast!',
];
const UNICODE = [
  'héllo wörld — naïve café façade', '日本語のテキスト', '😀🎉👍🏽 emoji', 'Ελληνικά и кириллица', 'tab\there\r\nCRLF',
  '\u0000\u0001\u007f control', 'e\u0301 combining', '  leading and trailing  ', ' ', '\n', 'x', '<0x41> <0x0A> <3 a<b>c',
  '€100 ≠ £90 ± ¥', 'ñandú “quotes” ‘single’', 'a\u00a0b\u3000c', '\ud83d\ude00\ud83d',
];

describe('llama2.c tokenizer as tokenizer.json', { skip: SKIP_NO_SHARED }, () => {
  let tok: TextTokenizer;
  const pieces = readLlama2cTokenizer(TOK, 512).pieces;
  before(async () => {
    const out = join(mkdtempSync(join(TMP, 'd-')), 'm');
    convertLlama2c({ model: join(SRC, 'stories260K.bin'), tokenizer: TOK, out });
    tok = await loadTokenizer(out);
  });

  test('encodes every line of tinyshakespeare val.txt exactly as run.c', () => {
    const lines = readFileSync(VAL, 'utf8').split('\n');
    assert.ok(lines.length > 2000);
    for (const line of lines) assert.deepEqual(tok.encode(line), runcEncode(pieces, line, true, false), JSON.stringify(line));
  });

  test('encodes a whole multi-line passage as run.c does', () => {
    const text = readFileSync(VAL, 'utf8').slice(0, 5000);
    assert.deepEqual(tok.encode(text), runcEncode(pieces, text, true, false));
  });

  test('encodes TinyStories-like sentences and unicode / byte-fallback strings as run.c', () => {
    for (const s of [...STORIES, ...UNICODE]) {
      assert.deepEqual(tok.encode(s), runcEncode(pieces, s, true, false), JSON.stringify(s));
      assert.deepEqual(tok.encode(s, { addSpecialTokens: false }), runcEncode(pieces, s, false, false), JSON.stringify(s));
    }
    assert.deepEqual(tok.encode('☃'), [1, 410, 3 + 0xe2, 3 + 0x98, 3 + 0x83]);
    assert.deepEqual(tok.encode(''), [1]);
  });

  test('decode(encode(s)) round-trips', () => {
    const lines = readFileSync(VAL, 'utf8').split('\n');
    for (const s of [...lines, ...STORIES, ...UNICODE.filter((u) => !u.includes('\ud83d\ude00\ud83d'))]) {
      assert.equal(tok.decode(tok.encode(s), { skipSpecialTokens: true }), s);
      assert.equal(tok.decode(tok.encode(s, { addSpecialTokens: false })), s);
    }
  });

  test('decodes the greedy sample of PROVENANCE.md', () => {
    const ids = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385];
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One');
    assert.equal(tok.decode(ids).slice(0, 8), '<s> Once');
  });

  test('special tokens: <unk> 0, <s> 1, </s> 2; vocabulary and settings', () => {
    assert.equal(tok.vocabSize, 512);
    assert.deepEqual([tok.unkId, tok.bosId, tok.eosId, tok.padId], [0, 1, 2, null]);
    assert.equal(tok.idToToken(1), '<s>');
    assert.equal(tok.idToToken(2), '</s>');
    assert.equal(tok.idToToken(3 + 0x0a), '<0x0A>');
    assert.equal(tok.idToToken(410), '▁');
    assert.equal(tok.tokenToId('▁Lily'), 317);
    assert.equal(tok.modelMaxLength, 512);
    assert.equal(tok.paddingSide, 'right');
    // Like transformers, text that spells a special token is that token (run.c would spell it out).
    assert.deepEqual(tok.encode('<s>'), [1, 1]);
  });

  test('batches pad with eos (no pad token) on the right and truncate to maxLength', () => {
    const b = tok.batch(['Once upon a time', 'Lily'], { maxLength: 4 });
    assert.deepEqual(b.inputIds[0], tok.encode('Once upon a time').slice(0, 4));
    assert.equal(b.inputIds[1][0], 1);
    assert.deepEqual(b.attentionMask[1], [1, 1, 0, 0]);
    assert.deepEqual(b.inputIds[1].slice(2), [2, 2]);
    assert.equal(b.tokenTypeIds, undefined);
  });

  test('the tokenizer file is validated', () => {
    const dir = mkdtempSync(join(TMP, 'd-'));
    const p = join(dir, 'p.bin');
    const copy = Buffer.from(readFileSync(TOK));
    // piece 3 ("<0x00>") follows int32 max_len and <unk> (5 bytes), "\n<s>\n" (5), "\n</s>\n" (6)
    copy.write('<0x01>', 4 + (8 + 5) + (8 + 5) + (8 + 6) + 8);
    writeFileSync(p, copy);
    assert.throws(() => readLlama2cTokenizer(p, 512), (e: unknown) =>
      e instanceof PeftError && e.code === 'FORMAT' && e.where === p && /token 3 is "<0x01>", expected the byte piece <0x00>/.test(e.message));
    assert.throws(() => readLlama2cTokenizer(join(dir, 'missing.bin')), (e: unknown) => e instanceof PeftError && e.code === 'FILE');
  });
});
