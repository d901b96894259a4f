// The Porter stemmer against NLTK's documented outputs (NLTK_EXTENSIONS mode, rouge-score's).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { porterStem } from '../../../src/engine/metrics/index.js';

test('NLTK stem howto: the pluralised words', () => {
  // nltk/test/stem.doctest ("Test the stemmer on various pluralised words"):
  const words = ['caresses', 'flies', 'dies', 'mules', 'denied', 'died', 'agreed', 'owned', 'humbled', 'sized', 'meeting', 'stating', 'siezing', 'itemization', 'sensational', 'traditional', 'reference', 'colonizer', 'plotted'];
  assert.equal(words.map(porterStem).join(' '), 'caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot');
});

test('NLTK test_stem.py regressions: "oed", lower-casing', () => {
  // nltk/test/unit/test_stem.py::test_oed_bug and ::test_lowercase_option
  assert.equal(porterStem('oed'), 'o');
  assert.equal(porterStem('On'), 'on');
  assert.equal(porterStem('I'), 'i');
  assert.equal(porterStem('Github'), 'github');
});

test('the examples of Porter (1980) that NLTK_EXTENSIONS keeps, and its own departures', () => {
  // Step examples from the paper as quoted in nltk/stem/porter.py's docstrings, stemmed whole.
  const cases: [string, string][] = [
    ['hopping', 'hop'], ['filing', 'file'], ['failing', 'fail'], ['controll', 'control'], ['roll', 'roll'],
    ['relational', 'relat'], ['conditional', 'condit'], ['rational', 'ration'], ['happy', 'happi'],
    ['sky', 'sky'], ['skies', 'sky'], ['dying', 'die'], ['news', 'news'], ['enjoy', 'enjoy'],
    ['generalization', 'gener'], ['hopefulness', 'hope'], ['geology', 'geolog'],
  ];
  for (const [w, s] of cases) assert.equal(porterStem(w), s, w);
});
