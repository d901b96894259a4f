// The logits processors and warpers as defined (transformers' semantics), and what they do in
// generation: no repeated n-gram, no eos before min_new_tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import {
  generate, applyProcessors, applyWarpers, banRepeatedNgrams, topK, topP, logSoftmax, argmax,
} from '../../../src/engine/generate/index.js';
import { fixtureModel, stories } from './helpers.js';

const plain = () => ForwardContext.plain(false);
const kept = (s: Float64Array) => Array.from(s.keys()).filter((i) => s[i] > -Infinity);

test('top-k keeps the k largest (and ties with the k-th); k ≥ vocabulary keeps all', () => {
  const s = Float64Array.from([1, 5, 3, 5, 2, 3]);
  topK(s, 3);
  assert.deepEqual(kept(s), [1, 2, 3, 5], 'the 3rd largest is 3, and both 3s stay');
  const all = Float64Array.from([1, 2]);
  topK(all, 5);
  assert.deepEqual(kept(all), [0, 1]);
});

test('top-p keeps the most likely tokens until their probability reaches p (at least one)', () => {
  // probabilities 0.5, 0.3, 0.15, 0.05 (ids 2, 0, 3, 1)
  const logits = () => Float64Array.from([0.3, 0.05, 0.5, 0.15].map(Math.log));
  for (const [p, expected] of [[0.45, [2]], [0.6, [0, 2]], [0.79, [0, 2]], [0.81, [0, 2, 3]], [0.96, [0, 1, 2, 3]], [1e-9, [2]]] as const) {
    const s = logits();
    topP(s, p);
    assert.deepEqual(kept(s), expected, `p = ${p}`);
  }
  // after top-k, top-p renormalises over what is left: 0.5 / 0.8 = 0.625 ≥ 0.6
  const s = logits();
  applyWarpers(s, { temperature: 1, topK: 2, topP: 0.6 });
  assert.deepEqual(kept(s), [2]);
});

test('temperature divides the logits', () => {
  const s = Float64Array.from([2, -4]);
  applyWarpers(s, { temperature: 2, topK: 0, topP: 1 });
  assert.deepEqual(Array.from(s), [1, -2]);
});

test('no repeated n-gram: a token that would complete an n-gram already present is banned', () => {
  const s = new Float64Array(10);
  banRepeatedNgrams(s, [1, 2, 3, 1, 2], 3); // "1 2" is followed by 3 before
  assert.deepEqual(Array.from(s.keys()).filter((i) => s[i] === -Infinity), [3]);
  const bigram = new Float64Array(10);
  banRepeatedNgrams(bigram, [4, 5, 4, 6, 4], 2); // after 4: 5 and 6 were seen
  assert.deepEqual(Array.from(bigram.keys()).filter((i) => bigram[i] === -Infinity), [5, 6]);
  const short = new Float64Array(10);
  banRepeatedNgrams(short, [1], 3);
  assert.ok(short.every((v) => v === 0));
});

test('min_new_tokens bans eos until that many tokens were generated', () => {
  const o = { eos: [2, 3], minNewTokens: 2, noRepeatNgramSize: 0 };
  const s = new Float64Array(5);
  applyProcessors(s, { tokens: [1], generated: 1 }, o);
  assert.deepEqual(Array.from(s), [0, 0, -Infinity, -Infinity, 0]);
  const later = new Float64Array(5);
  applyProcessors(later, { tokens: [1, 4, 4], generated: 2 }, o);
  assert.ok(later.every((v) => v === 0));
});

test('log-softmax and argmax', () => {
  const l = logSoftmax([1, 2, 3]);
  assert.ok(Math.abs(l.reduce((a, b) => a + Math.exp(b), 0) - 1) < 1e-12);
  assert.equal(argmax([1, 7, 7, 2]), 1);
});

test('in generation: no bigram repeats; eos waits for min_new_tokens; max_new_tokens is the limit', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = stories();
  const r = generate(model, plain, { inputIds: [[1]] }, { maxNewTokens: 60, noRepeatNgramSize: 2, eosTokenId: 2 });
  const seq = [1, ...r.sequences[0]];
  const seen = new Set<string>();
  for (let i = 0; i + 1 < seq.length; i++) {
    const key = `${seq[i]},${seq[i + 1]}`;
    assert.ok(!seen.has(key), `bigram ${key} repeats`);
    seen.add(key);
  }
  const plainRun = generate(model, plain, { inputIds: [[1]] }, { maxNewTokens: 60, eosTokenId: 2 });
  assert.notDeepEqual(r.sequences[0], plainRun.sequences[0], 'greedy alone repeats bigrams ("Lily", "the")');
  // BART (random weights) ends this source at once; with min_new_tokens 5 its eos comes 5th or later
  const bart = fixtureModel('bart');
  const src = { inputIds: [[5, 17, 33, 2], [41, 9, 2]] };
  const free = generate(bart, plain, src, { maxNewTokens: 12 });
  assert.deepEqual(free.sequences[0], [2], 'eos right away (config eos_token_id 2)');
  const late = generate(bart, plain, src, { maxNewTokens: 12, minNewTokens: 5 });
  for (const s of late.sequences) {
    const at = s.indexOf(2);
    assert.ok(at === -1 || at >= 4, `eos at ${at}`);
    assert.ok(s.length >= 5 && s.length <= 12);
  }
  // a finished row ends with its eos (nothing after it); max_new_tokens bounds the others
  for (const s of [...free.sequences, ...late.sequences]) {
    const at = s.indexOf(2);
    assert.ok(at === -1 ? s.length === 12 : at === s.length - 1);
  }
});
