import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeftError } from '../../src/errors.js';
import { loadRecipeFile, parseRecipeText } from '../../src/recipes/load.js';
import { toPlain } from '../../src/recipes/source.js';
import type { MapNode, Origin } from '../../src/recipes/source.js';
import { ALIAS_NODE_BUDGET, ALIAS_TEXT_BUDGET } from '../../src/recipes/yaml-tree.js';

const F = '/recipes/r.yaml';

function at(o: Origin): string {
  return 'set' in o ? o.set : `${o.line}:${o.col}`;
}

function yamlError(text: string): PeftError {
  try {
    parseRecipeText(text, F);
  } catch (e) {
    assert.ok(e instanceof PeftError, String(e));
    return e;
  }
  assert.fail('expected a PeftError');
}

test('a recipe keeps the line:col of every key and value', () => {
  const root = parseRecipeText('backbone:\n  path: ./m\nmethod: {preset: lora, rank: 8}\nlist: [1, two]\n', F);
  assert.deepEqual(toPlain(root), { backbone: { path: './m' }, method: { preset: 'lora', rank: 8 }, list: [1, 'two'] });
  const backbone = root.entries.get('backbone')!;
  assert.equal(at(backbone.keyAt), '1:1');
  const path = (backbone.node as MapNode).entries.get('path')!;
  assert.equal(at(path.keyAt), '2:3');
  assert.equal(at(path.node.at), '2:9');
  const rank = (root.entries.get('method')!.node as MapNode).entries.get('rank')!;
  assert.equal(at(rank.keyAt), '3:24');
  assert.equal(at(rank.node.at), '3:30');
});

test('YAML 1.2 core scalars: numbers, booleans, null; yes/no stay strings', () => {
  const root = parseRecipeText('a: 3e-4\nb: true\nc: ~\nd: yes\ne: "8"\nf: 0x10\ng: !!str 5\n', F);
  assert.deepEqual(toPlain(root), { a: 3e-4, b: true, c: null, d: 'yes', e: '8', f: 16, g: '5' });
});

test('a byte-order mark is not part of the first key', () => {
  const root = parseRecipeText('\ufeffseed: 1\n', F);
  assert.deepEqual(toPlain(root), { seed: 1 });
});

test('aliases expand, and their values keep the anchor\'s positions', () => {
  const root = parseRecipeText('a: &x {rank: 4}\nb: *x\n', F);
  assert.deepEqual(toPlain(root), { a: { rank: 4 }, b: { rank: 4 } });
  const b = root.entries.get('b')!.node as MapNode;
  assert.equal(at(b.at), '2:4'); // the alias supplied b itself
  assert.equal(at(b.entries.get('rank')!.node.at), '1:14'); // rank was written in the anchor
});

test('a billion-laughs alias bomb is a one-line error, quickly', () => {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  const started = Date.now();
  const e = yamlError(lines.join('\n') + '\n');
  assert.equal(e.code, 'YAML');
  assert.equal(e.where, '/recipes/r.yaml:5:10');
  assert.equal(e.message, `aliases expand to more than ${ALIAS_NODE_BUDGET} values (an alias bomb?)`);
  assert.ok(Date.now() - started < 5000, 'the budget stops the expansion early');
});

test('few aliases of a long string are bounded by the text they copy, not only by their count', () => {
  const long = 'x'.repeat(200_000);
  const e = yamlError(`s: &s "${long}"\nl: &l [*s, *s, *s, *s, *s, *s]\nm: [*l, *l]\n`);
  assert.equal(e.message, `aliases expand to more than ${ALIAS_TEXT_BUDGET} characters of text (an alias bomb?)`);
  assert.equal(e.where, '/recipes/r.yaml:2:28'); // the sixth copy passes the budget
});

test('an alias that contains itself, or names no anchor, is an error', () => {
  assert.equal(yamlError('a: &x [1, *x]\n').message, 'alias *x refers to a node that contains it');
  const e = yamlError('a: *nope\n');
  assert.equal(e.message, 'unknown alias *nope');
  assert.equal(e.where, '/recipes/r.yaml:1:4');
});

test('tags other than the plain core ones are errors at the tag', () => {
  for (const [text, tag] of [
    ['a: !python/object {x: 1}\n', '!python/object'],
    ['a: !!binary aGVsbG8=\n', '!!binary'],
    ['a: !!set {x}\n', '!!set'],
    ['a: !!timestamp 2001-01-01\n', '!!timestamp'],
  ] as const) {
    const e = yamlError(text);
    assert.equal(e.message, `unknown tag ${tag}`, text);
    assert.equal(e.where, '/recipes/r.yaml:1:4', text);
  }
});

test('syntax errors are one line with the place and a hint', () => {
  const e = yamlError('a:\n  b: 1\n c: 2\n');
  assert.equal(e.code, 'YAML');
  assert.equal(e.where, '/recipes/r.yaml:3:1');
  assert.equal(e.message, 'all mapping items must start at the same column');
  assert.ok(e.hint);
  assert.ok(!e.toLine().includes('\n'));
  assert.equal(yamlError('a: 1\n---\nb: 2\n').message, 'source contains multiple documents; please use YAML.parseAllDocuments()');
  assert.equal(yamlError('a: "abc\n').hint, 'close the quote or bracket opened before this place');
  assert.equal(yamlError('a:\n\tb: 1\n').hint, 'indent with spaces, not tabs');
});

test('duplicate keys are errors naming the key and the first place', () => {
  const e = yamlError('method:\n  rank: 8\n  rank: 4\n');
  assert.equal(e.message, 'duplicate key "rank" (first at line 2)');
  assert.equal(e.where, '/recipes/r.yaml:3:3');
});

test('keys must be scalars; `<<` is an ordinary key in YAML 1.2', () => {
  assert.equal(yamlError('? [a, b]\n: 1\n').message, 'mapping keys must be plain strings');
  assert.deepEqual(toPlain(parseRecipeText('<<: {a: 1}\n', F)), { '<<': { a: 1 } });
});

test('__proto__ is a plain key, not a prototype', () => {
  const doc = toPlain(parseRecipeText('__proto__: {polluted: true}\n', F)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('empty documents, lists and scalars at the top level are not recipes', () => {
  assert.equal(yamlError('').message, 'empty recipe');
  assert.equal(yamlError('# nothing\n\n').message, 'empty recipe');
  assert.equal(yamlError('- a\n- b\n').message, 'a recipe must be a mapping of keys, not a list');
  assert.equal(yamlError('42\n').message, 'a recipe must be a mapping of keys, not a single value (42)');
});

test('files: missing, a directory, binary, invalid UTF-8, too large', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-load-'));
  const expectError = (file: string, code: string, message: RegExp) => {
    assert.throws(() => loadRecipeFile(file), (e: unknown) => e instanceof PeftError && e.code === code && message.test(e.message));
  };
  expectError(join(dir, 'missing.yaml'), 'FILE', /^no such file$/);
  expectError(dir, 'FILE', /^is a directory/);
  writeFileSync(join(dir, 'bin.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0x00, 0x01]));
  expectError(join(dir, 'bin.yaml'), 'YAML', /^not a text file \(binary data at byte 3\)$/);
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x74, 0xe9, 0x0a]));
  expectError(join(dir, 'latin1.yaml'), 'YAML', /^not a text file \(binary data at byte 3\)$/);
  writeFileSync(join(dir, 'big.yaml'), `a: "${'x'.repeat(1 << 20)}"\n`);
  expectError(join(dir, 'big.yaml'), 'YAML', /too large/);
  writeFileSync(join(dir, 'deep.yaml'), `a: ${'['.repeat(100)}${']'.repeat(100)}\n`);
  expectError(join(dir, 'deep.yaml'), 'YAML', /nested more than/);
});
