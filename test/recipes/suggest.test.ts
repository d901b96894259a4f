import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, suggest } from '../../src/plan/index.js';

test('editDistance counts an adjacent transposition as one edit', () => {
  assert.equal(editDistance('rnak', 'rank'), 1);
  assert.equal(editDistance('lowrnk', 'lowrank'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('same', 'same'), 0);
});

test('suggest picks the closest candidate within a threshold relative to length', () => {
  assert.equal(suggest('rnak', ['rank', 'alpha', 'preset']), 'rank');
  assert.equal(suggest('trainng', ['training', 'task', 'data']), 'training');
  assert.equal(suggest('Lora', ['lora', 'dora']), 'lora'); // case-insensitive, tie → exact match first
  assert.equal(suggest('xyz', ['rank', 'alpha']), undefined);
  assert.equal(suggest('optimiser', ['optimizer', 'output']), 'optimizer');
  assert.equal(suggest('lr', ['rank', 'alpha']), undefined);
  assert.equal(suggest('anything', []), undefined);
});
