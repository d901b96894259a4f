import { test } from 'node:test';
import assert from 'node:assert/strict';
import { padRows, pairLengths, truncateIds } from '../../../src/engine/tokenizers/batch.js';
import { applyTemplate, bosEosTemplate, specialCount, templateFromPostProcessor } from '../../../src/engine/tokenizers/template.js';

test('truncateIds cuts from the right or the left', () => {
  assert.deepEqual(truncateIds([1, 2, 3, 4], 2, 'right'), [1, 2]);
  assert.deepEqual(truncateIds([1, 2, 3, 4], 2, 'left'), [3, 4]);
  assert.deepEqual(truncateIds([1, 2], 5, 'right'), [1, 2]);
  assert.deepEqual(truncateIds([1, 2], 0, 'left'), []);
});

test('pairLengths follows tokenizers\' longest_first', () => {
  assert.deepEqual(pairLengths(3, 4, 10), [3, 4]);
  assert.deepEqual(pairLengths(3, 100, 10), [3, 7]);
  assert.deepEqual(pairLengths(100, 3, 10), [7, 3]);
  assert.deepEqual(pairLengths(6, 100, 10), [5, 5]);
  assert.deepEqual(pairLengths(100, 100, 9), [4, 5]);
  assert.deepEqual(pairLengths(100, 50, 9), [5, 4]);
  assert.deepEqual(pairLengths(20, 30, 0), [0, 0]);
});

test('padRows pads ids, mask and type ids on either side', () => {
  const r = padRows([[5, 6, 7], [8]], [[0, 0, 1], [0]], 4, 0, 'right');
  assert.deepEqual(r.rows, [[5, 6, 7, 0], [8, 0, 0, 0]]);
  assert.deepEqual(r.mask, [[1, 1, 1, 0], [1, 0, 0, 0]]);
  assert.deepEqual(r.types, [[0, 0, 1, 0], [0, 0, 0, 0]]);
  const l = padRows([[5, 6], [8]], undefined, 2, 9, 'left');
  assert.deepEqual(l.rows, [[5, 6], [9, 8]]);
  assert.deepEqual(l.mask, [[1, 1], [0, 1]]);
  assert.equal(l.types, undefined);
});

test('templates from TemplateProcessing, BertProcessing, RobertaProcessing, Sequence and add_bos/add_eos', () => {
  const ids: Record<string, number> = { '[CLS]': 101, '[SEP]': 102, '<s>': 0, '</s>': 2 };
  const lookup = (t: string) => ids[t] ?? null;
  const bert = templateFromPostProcessor({ type: 'BertProcessing', cls: ['[CLS]', 101], sep: ['[SEP]', 102] }, lookup);
  assert.deepEqual(applyTemplate(bert, [7], [8], true), { ids: [101, 7, 102, 8, 102], typeIds: [0, 0, 0, 1, 1] });
  assert.equal(specialCount(bert, true), 3);
  const roberta = templateFromPostProcessor({ type: 'RobertaProcessing', cls: ['<s>', 0], sep: ['</s>', 2] }, lookup);
  assert.deepEqual(applyTemplate(roberta, [7], [8], true).ids, [0, 7, 2, 2, 8, 2]);
  const seq = templateFromPostProcessor({ type: 'Sequence', processors: [{ type: 'ByteLevel' }, {
    type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [],
    special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } },
  }] }, lookup);
  assert.deepEqual(applyTemplate(seq, [7, 8], null, true).ids, [0, 7, 8]);
  assert.deepEqual(applyTemplate(seq, [7, 8], null, false).ids, [7, 8]);
  const llama = bosEosTemplate(1, 2, true, true);
  assert.deepEqual(applyTemplate(llama, [7], [8], true), { ids: [1, 7, 2, 1, 8, 2], typeIds: [0, 0, 0, 1, 1, 1] });
  assert.equal(specialCount(llama, false), 2);
  assert.deepEqual(applyTemplate(templateFromPostProcessor(null, lookup), [7], [8], true), { ids: [7, 8], typeIds: [0, 1] });
});
