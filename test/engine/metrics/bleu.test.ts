// Corpus BLEU against sacreBLEU's README and its test suite (mjpost/sacrebleu, test/test_bleu.py).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBleu, computeMetric, corpusBleu, formatBleu, tokenize13a } from '../../../src/engine/metrics/index.js';

const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const HYPS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const EPS = 1e-8;

test('sacreBLEU README: corpus_bleu(sys, refs) with the defaults', () => {
  // README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
  const s = corpusBleu(HYPS, REFS);
  assert.equal(formatBleu(s), 'BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)');
  // test_bleu.py test_corpus_bleu_cases: default → 48.530827, smooth none → same, tokenize none → 49.1919566
  assert.ok(Math.abs(s.score - 48.530827) < 1e-6);
  assert.ok(Math.abs(corpusBleu(HYPS, REFS, { smoothMethod: 'none' }).score - 48.530827) < 1e-6);
  assert.ok(Math.abs(corpusBleu(HYPS, REFS, { tokenize: 'none' }).score - 49.1919566) < 1e-6);
  assert.equal(corpusBleu(['', '', ''], REFS).score, 0);
  assert.equal(s.sysLen, 17);
  assert.equal(s.refLen, 18);
});

test('sacreBLEU README: a variable number of references (a missing one is "" or null)', () => {
  // README "Variable Number of References": BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)
  const refs = [['', ...(REFS[0] as string[]).slice(1)], REFS[1] as string[]];
  assert.equal(formatBleu(corpusBleu(HYPS, refs)), 'BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ratio = 0.895 hyp_len = 17 ref_len = 19)');
  const withNull = [[null, ...(REFS[0] as string[]).slice(1)], REFS[1] as string[]];
  assert.equal(formatBleu(corpusBleu(HYPS, withNull)), formatBleu(corpusBleu(HYPS, refs)));
});

test('test_bleu.py: max n-gram order', () => {
  const expected: Record<number, string> = { 1: '77.65', 2: '60.50', 3: '53.93', 4: '48.53', 5: '46.14', 6: '43.28' };
  for (const [order, score] of Object.entries(expected)) assert.equal(corpusBleu(HYPS, REFS, { maxNgramOrder: Number(order) }).score.toFixed(2), score);
});

// sacrebleu.raw_corpus_bleu(hyps, refs, smooth_value): floor smoothing, no tokenization, effective order.
const raw = (smoothValue: number) => ({ tokenize: 'none', smoothMethod: 'floor', smoothValue, effectiveOrder: true }) as const;

test('test_bleu.py: raw BLEU, effective order, statistics, offsets', () => {
  assert.equal(corpusBleu(['this is a test', 'another test'], [['ref1', 'ref2']], raw(0.01)).score, 0); // "now returns 0.0 (#141)"
  assert.ok(Math.abs(corpusBleu(['this is a test'], [['this is a test']], raw(0.01)).score / 100 - 1) < EPS);
  assert.ok(Math.abs(corpusBleu(['this is a fest'], [['this is a test']], raw(0.01)).score / 100 - 0.223606797749979) < EPS);
  assert.ok(Math.abs(corpusBleu(['test'], [['a test']], raw(0.01)).score / 100 - 0.3678794411714425) < EPS);
  assert.ok(Math.abs(corpusBleu(['a test'], [['a test']], raw(0.01)).score / 100 - 1) < EPS);
  assert.ok(Math.abs(corpusBleu(['a little test'], [['a test']], raw(0.01)).score / 100 - 0.03218297948685433) < EPS);
  const stats = corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], raw(0.01));
  assert.deepEqual(stats.counts, [4, 2, 1, 0]);
  assert.deepEqual(stats.totals, [6, 5, 4, 3]);
  assert.ok(Math.abs(corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], raw(0.1)).score / 100 - 0.1555722182) < EPS);
  assert.equal(corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], raw(0)).score, 0);
});

test('test_bleu.py: compute_bleu from statistics, degenerate statistics', () => {
  assert.ok(Math.abs(computeBleu([9, 7, 5, 3], [10, 8, 6, 4], 11, 11, { smoothMethod: 'none' }).score / 100 - 0.8375922397) < EPS);
  const degenerate: [number[], number[], number, number, number][] = [
    [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0],
    [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0],
    [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0],
    [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
    [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
  ];
  for (const [c, t, sys, ref, offset] of degenerate) assert.equal(computeBleu(c, t, sys, ref, { smoothMethod: 'floor', smoothValue: offset }).score, 0);
});

test('13a tokenization: punctuation split off (not apostrophes or dashes), periods and commas kept inside numbers', () => {
  // mteval-v13a splits the symbols {-~ [-` space-& (-+ :-@ /, so "wasn't" stays one token: the
  // README's hyp_len = 17 counts it so.
  assert.equal(tokenize13a("It wasn't surprising."), "It wasn't surprising .");
  assert.equal(tokenize13a('Pi is 3.14, or 22/7 (roughly) &amp; 1-2 "quoted"'), 'Pi is 3.14 , or 22 / 7 ( roughly ) & 1 - 2 " quoted "');
});

test('registry: references per segment (one string or a list) become sacreBLEU streams', () => {
  const perSegment = HYPS.map((_, i) => [(REFS[0] as string[])[i] as string, (REFS[1] as string[])[i] as string]);
  const r = computeMetric('bleu', HYPS, perSegment);
  assert.ok(Math.abs((r.bleu as number) - 48.530827) < 1e-6);
  assert.equal(r.bleu_sys_len, 17);
  assert.equal(r.bleu_ref_len, 18);
  assert.ok(Math.abs((r.bleu_bp as number) - Math.exp(1 - 18 / 17)) < 1e-12);
});
