import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeftError } from '../src/errors.js';

test('PeftError is one line with place and hint, exit code by cause', () => {
  const e = new PeftError('SCHEMA', 'must be integer ≥ 1 (got "eight")', { where: 'r.yaml:12:5  method.rank', hint: 'use a whole number' });
  assert.equal(e.toLine(), 'r.yaml:12:5  method.rank  must be integer ≥ 1 (got "eight") (hint: use a whole number)');
  assert.equal(e.exitCode, 2);
  assert.equal(new PeftError('DIVERGED', 'loss is NaN').exitCode, 1);
});
