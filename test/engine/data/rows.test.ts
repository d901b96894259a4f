// Row → example mapping: columns, label names ↔ ids, regression floats, token-cls lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isProblem, LabelSet, RowMapper } from '../../../src/engine/data/index.js';
import type { Example, RowProblem } from '../../../src/engine/data/index.js';

function ok(m: Example | RowProblem): Example {
  assert.ok(!isProblem(m), `expected an example, got ${JSON.stringify(m)}`);
  return m as Example;
}

function bad(m: Example | RowProblem): RowProblem {
  assert.ok(isProblem(m), `expected a problem, got ${JSON.stringify(m)}`);
  return m as RowProblem;
}

test('labels given as names or ids (numbers or digit strings); names win over ids', () => {
  const named = new LabelSet(['negative', 'positive'], 2);
  assert.equal(named.toId('positive'), 1);
  assert.equal(named.toId(0), 0);
  assert.equal(named.toId('1'), 1);
  assert.equal(named.toId(' 1 '), 1);
  assert.equal(named.toId(2), null);
  assert.equal(named.toId('neutral'), null);
  assert.equal(named.toId(0.5), null);
  assert.equal(named.toId(true), 1);
  assert.equal(named.describe(), 'negative, positive (or ids 0, 1)');
  const stars = new LabelSet(['1', '2', '3', '4', '5'], 5);
  assert.equal(stars.toId('1'), 0, 'a label named "1" is that name, not id 1');
  assert.equal(stars.toId(4), 4);
  const open = new LabelSet(null, null);
  assert.equal(open.toId(17), 17);
  assert.equal(open.toId(-1), null);
  assert.equal(open.describe(), 'a non-negative integer');
  assert.equal(LabelSet.fromTask({ labels: null, numLabels: 3 }).describe(), '0, 1, 2');
});

test('columns map roles; defaults find the usual names', () => {
  const m = new RowMapper({ type: 'seq-cls', labels: ['neg', 'pos'], numLabels: 2 }, { text: 'sentence1', text_pair: 'sentence2', label: 'gold' });
  assert.deepEqual(ok(m.map({ sentence1: 'a', sentence2: 'b', gold: 'pos', extra: 1 }, 'f:1', 0)), { where: 'f:1', index: 0, text: 'a', textPair: 'b', label: 1 });
  const d = new RowMapper({ type: 'seq-cls', labels: null, numLabels: 2 });
  assert.deepEqual(ok(d.map({ sentence: 'x', label: 1, idx: 3 }, 'f:1', 0)), { where: 'f:1', index: 0, text: 'x', label: 1 });
  assert.equal(d.columnOf('text'), 'sentence');
  const lm = new RowMapper({ type: 'causal-lm', labels: null, numLabels: null });
  assert.deepEqual(ok(lm.map({ text: 'hello' }, 'f:1', 0)), { where: 'f:1', index: 0, text: 'hello' });
  const s2s = new RowMapper({ type: 'seq2seq', labels: null, numLabels: null }, { text: 'document', target: 'summary' });
  assert.deepEqual(ok(s2s.map({ document: 'long', summary: 'short' }, 'f:1', 0)), { where: 'f:1', index: 0, text: 'long', target: 'short' });
  assert.throws(() => new RowMapper({ type: 'seq-cls', labels: null, numLabels: 2 }, { txt: 'a' }), /unknown column role "txt"/);
  // Dotted columns reach into nested objects (Hugging Face translation rows).
  const mt = new RowMapper({ type: 'seq2seq', labels: null, numLabels: null }, { text: 'translation.en', target: 'translation.de' });
  assert.deepEqual(ok(mt.map({ translation: { en: 'house', de: 'Haus' } }, 'f:1', 0)), { where: 'f:1', index: 0, text: 'house', target: 'Haus' });
});

test('problems: missing field, wrong type, label outside the set', () => {
  const m = new RowMapper({ type: 'seq-cls', labels: null, numLabels: 2 });
  assert.deepEqual(bad(m.map({ text: 'a' }, 'f:1', 0)), {
    reason: 'missing',
    message: 'field "label" missing (expected one of 0, 1)',
    hint: 'map the column with data.columns (e.g. columns: {label: sentiment}), or set data.on_error: skip',
  });
  assert.equal(bad(m.map({ text: 5, label: 0 }, 'f:1', 0)).reason, 'type');
  assert.match(bad(m.map({ text: 'a', label: 7 }, 'f:1', 0)).message, /^label 7 in field "label" is not one of 0, 1$/);
  assert.equal(bad(m.map({ text: 'a', label: null }, 'f:1', 0)).reason, 'missing');
});

test('without labels (prediction), rows need no label column', () => {
  const m = new RowMapper({ type: 'seq-cls', labels: null, numLabels: 2 }, {}, { withLabels: false });
  assert.deepEqual(ok(m.map({ text: 'a' }, 'f:1', 0)), { where: 'f:1', index: 0, text: 'a' });
});

test('regression targets are floats (numbers or numeric strings)', () => {
  const m = new RowMapper({ type: 'regression', labels: null, numLabels: null }, { text: 'sentence1', text_pair: 'sentence2', label: 'score' });
  assert.equal(ok(m.map({ sentence1: 'a', sentence2: 'b', score: '3.8' }, 'f:1', 0)).label, 3.8);
  assert.equal(ok(m.map({ sentence1: 'a', sentence2: 'b', score: 0.25 }, 'f:1', 0)).label, 0.25);
  const p = bad(m.map({ sentence1: 'a', sentence2: 'b', score: 'high' }, 'f:2', 1));
  assert.equal(p.reason, 'label');
  assert.match(p.message, /"high", not a number/);
});

test('token classification: tokens and per-token labels (names or ids), lengths must agree', () => {
  const m = new RowMapper({ type: 'token-cls', labels: ['O', 'B-PER', 'I-PER'], numLabels: 3 });
  assert.deepEqual(ok(m.map({ tokens: ['John', 'Smith', 'runs'], ner_tags: ['B-PER', 'I-PER', 'O'] }, 'f:1', 0)).labels, [1, 2, 0]);
  assert.equal(m.columnOf('label'), 'ner_tags');
  assert.deepEqual(ok(m.map({ tokens: 'a b', ner_tags: [0, 0] }, 'f:2', 1)).tokens, ['a', 'b']);
  assert.equal(bad(m.map({ tokens: ['a', 'b'], ner_tags: [0] }, 'f:3', 2)).reason, 'length');
  assert.equal(bad(m.map({ tokens: ['a'], ner_tags: ['B-LOC'] }, 'f:4', 3)).reason, 'label');
});

test('image-cls: IDX rows keep their shape; lists of numbers become Float32Array', () => {
  const m = new RowMapper({ type: 'image-cls', labels: null, numLabels: 10 });
  const ex = ok(m.map({ image: new Float32Array(4), shape: [2, 2], label: 3 }, 'f:row 0', 0));
  assert.deepEqual(ex.shape, [2, 2]);
  assert.equal(ex.label, 3);
  const ex2 = ok(m.map({ image: [0, 0.5, 1], label: '9' }, 'f:row 1', 1));
  assert.ok(ex2.image instanceof Float32Array);
  assert.deepEqual(ex2.shape, [3]);
  const f = new RowMapper({ type: 'image-cls', labels: null, numLabels: 10 }, { image: '0..2', label: '3' });
  assert.deepEqual([...(ok(f.map({ 0: '1', 1: '2', 2: '16', 3: '7' }, 'f:1', 0)).image ?? [])], [1, 2, 16]);
  assert.equal(bad(f.map({ 0: '1', 1: 'x', 2: '16', 3: '7' }, 'f:2', 1)).reason, 'type');
});
