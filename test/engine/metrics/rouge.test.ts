// ROUGE against rouge-score's own tests (google-research/google-research, rouge/rouge_scorer_test.py),
// whose expected values come from runs of the official ROUGE-1.5.5 perl script.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetric, corpusRouge, rougeScore, rougeTokenize, type RougeScore } from '../../../src/engine/metrics/index.js';

function near(got: RougeScore, recall: number, precision: number, fmeasure: number, places = 5): void {
  const tol = 0.5 * 10 ** -places;
  assert.ok(Math.abs(got.recall - recall) <= tol, `recall ${got.recall} ≠ ${recall}`);
  assert.ok(Math.abs(got.precision - precision) <= tol, `precision ${got.precision} ≠ ${precision}`);
  assert.ok(Math.abs(got.fmeasure - fmeasure) <= tol, `fmeasure ${got.fmeasure} ≠ ${fmeasure}`);
}

// rouge/testdata/target.txt and prediction.txt, first two lines (random tokens built to exercise
// the tokenizer and the stemmer: "…ing", "…tion", "…er").
const TARGETS = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
];
const PREDICTIONS = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
];

test('rouge-score testRouge1 / testRouge2 / testRougeL* on short strings', () => {
  const plain = { useStemmer: false };
  near(rougeScore('testing one two', 'testing', plain).rouge1, 1 / 3, 1, 1 / 2);
  near(rougeScore('testing one two', 'testing one', plain).rouge2, 1 / 2, 1, 2 / 3);
  near(rougeScore('testing one two', 'testing one', plain).rougeL, 2 / 3, 1, 4 / 5);
  near(rougeScore('testing one two', 'testing two', plain).rougeL, 2 / 3, 1, 4 / 5);
  for (const t of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const) near(rougeScore('testing one two', '', plain)[t], 0, 0, 0);
});

test('rouge-score testRouge{1,2,L}AgainstRouge155 (no stemming)', () => {
  const [t0, t1] = TARGETS as [string, string];
  const [p0, p1] = PREDICTIONS as [string, string];
  const a = rougeScore(t0, p0, { useStemmer: false });
  near(a.rouge1, 0.40741, 0.6875, 0.51163);
  near(a.rouge2, 0.30769, 0.53333, 0.39024);
  near(a.rougeL, 0.40741, 0.6875, 0.51163);
  const b = rougeScore(t1, p1, { useStemmer: false });
  near(b.rouge1, 0.40476, 0.65385, 0.5);
  near(b.rouge2, 0.29268, 0.48, 0.36364);
  near(b.rougeL, 0.40476, 0.65385, 0.5);
});

test('rouge-score testRouge{1,2}AgainstRouge155WithStemming', () => {
  const [t0, t1] = TARGETS as [string, string];
  const [p0, p1] = PREDICTIONS as [string, string];
  const a = rougeScore(t0, p0, { useStemmer: true });
  near(a.rouge1, 0.40741, 0.6875, 0.51163);
  near(a.rouge2, 0.30769, 0.53333, 0.39024);
  const b = rougeScore(t1, p1, { useStemmer: true });
  near(b.rouge1, 0.42857, 0.69231, 0.52941);
  near(b.rouge2, 0.29268, 0.48, 0.36364);
});

test('rouge-score testRougeLSumAgainstRouge155WithStemming (pyrouge_files/*_multi.0.txt)', () => {
  const target = `${TARGETS[0]}${TARGETS[1]}NhETebUbBk'er WOvoHMTjSRizKgH'vHiing Xu,hWxfs VkNE QhgKiLHE -HidivzoM.dO anhtion jbLQiSGDTCsuhREebUaKM dv J dVN tmbOT\nvMR HDm,xOAetion D,tion HJtodT.mHl UIv-p VjWH'BdyWjnfGU-OjT aEMdFICyLWfQMtion wEMfdOKing AwkeKbO 'DxqNOHBH qKtVvm OYJl mM\n`;
  const prediction = `${PREDICTIONS[0]}${PREDICTIONS[1]}xfs VkJE QhgKiLHE -HidivzoM.dO anhing jbLQiSGDTCsuhREebUaKM dv J\nVjWH'BdyWjnfGU-OjTNaEMdFICyLWfQMing wEMfdOKijg AwkeKbO 'DxqNO\n`;
  near(rougeScore(target, prediction, { useStemmer: true }).rougeLsum, 0.36538, 0.66667, 0.47205);
});

test('rouge-score testRougeLsum and testSummaryLevelLcs (union LCS, Lin 2004 §3.2)', () => {
  const s = rougeScore('w1 w2 w3 w4 w5', 'w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5', { useStemmer: false }).rougeLsum;
  assert.equal(s.recall, 0.8);
  assert.equal(s.precision, 0.4);
  assert.ok(Math.abs(s.fmeasure - 0.5333) < 5e-4);
  for (const [t, p] of [['w1 w2 w3 w4 w5', ''], ['', 'w1'], ['w1 w2 w3 w4 w5', '/']] as const) {
    near(rougeScore(t, p, { useStemmer: false }).rougeLsum, 0, 0, 0);
  }
});

test('tokenizer: lower-case, non-alphanumerics to spaces, stem only words longer than 3', () => {
  assert.deepEqual(rougeTokenize("The dogs' runnings, (ran)!", true), ['the', 'dog', 'run', 'ran']);
  assert.deepEqual(rougeTokenize('Is this cats?', true), ['is', 'thi', 'cat']);
  assert.deepEqual(rougeTokenize('Is this cats?', false), ['is', 'this', 'cats']);
});

test('corpus rouge is the mean F-measure; several references take the best one', () => {
  const r = corpusRouge(['testing', 'testing one'], ['testing one two', ['nothing here', 'testing one two']], { useStemmer: false });
  assert.ok(Math.abs(r.rouge1 - (1 / 2 + 4 / 5) / 2) < 1e-12);
  const m = computeMetric('rouge', ['testing'], ['testing one two']);
  assert.deepEqual(Object.keys(m), ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']);
});
