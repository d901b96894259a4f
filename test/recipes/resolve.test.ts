import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeftError } from '../../src/errors.js';
import { displayPath, parseSet, resolveRecipe } from '../../src/recipes/index.js';

const EXT = fileURLToPath(new URL('../fixtures/recipes/extends/', import.meta.url));
const BROKEN = fileURLToPath(new URL('../fixtures/recipes/broken/', import.meta.url));
const rel = (dir: string, name: string) => displayPath(join(dir, name));

function peftError(fn: () => unknown): PeftError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PeftError, String(e));
    return e;
  }
  assert.fail('expected a PeftError');
}

test('an extends chain merges mappings key by key, replaces lists, and drops `extends`', () => {
  const r = resolveRecipe(join(EXT, 'child.yaml'));
  assert.deepEqual(r.doc, {
    backbone: { path: '../models/tiny-llama' },
    data: { train: '../data/train.txt' },
    method: { preset: 'lora', rank: 16, alpha: 8, position: ['attn.query', 'attn.value'] },
    optimizer: { lr: 1e-3, betas: [0.8, 0.9] },
    name: 'child',
  });
  assert.equal(r.file, join(EXT, 'child.yaml'));
  assert.deepEqual(r.chain, ['child.yaml', 'mid.yaml', 'base.yaml'].map((f) => join(EXT, f)));
});

test('locate names the file and node that supplied each value, down the chain', () => {
  const r = resolveRecipe(join(EXT, 'child.yaml'));
  assert.equal(r.locate(['method', 'position']), `${rel(EXT, 'base.yaml')}:8:13`);
  assert.equal(r.locate(['method', 'position', 1]), `${rel(EXT, 'base.yaml')}:8:26`);
  assert.equal(r.locate(['optimizer', 'lr']), `${rel(EXT, 'base.yaml')}:10:7`);
  assert.equal(r.locate(['data', 'train']), `${rel(EXT, 'child.yaml')}:6:10`);
  assert.equal(r.locate(['method', 'alpha']), `${rel(EXT, 'mid.yaml')}:3:10`);
  assert.equal(r.locate(['optimizer', 'betas']), `${rel(EXT, 'mid.yaml')}:5:10`);
  assert.equal(r.locate(['optimizer', 'betas', 0]), `${rel(EXT, 'mid.yaml')}:5:11`);
  assert.equal(r.locate(['method', 'rank']), `${rel(EXT, 'child.yaml')}:4:9`);
  // A path with no node falls back to its nearest ancestor: the mapping the child wrote.
  assert.equal(r.locate(['method', 'dropout']), `${rel(EXT, 'child.yaml')}:4:3`);
  assert.equal(r.locate([]), `${rel(EXT, 'child.yaml')}:1:1`);
  assert.equal(r.locateKey(['method', 'rank']), `${rel(EXT, 'child.yaml')}:4:3`);
  assert.equal(r.locateKey(['optimizer', 'lr']), `${rel(EXT, 'base.yaml')}:10:3`);
});

test('extends as a list applies in order, the later file and then this file winning', () => {
  const r = resolveRecipe(join(EXT, 'listed.yaml'));
  assert.deepEqual(r.doc, {
    backbone: { path: '../models/tiny-llama' },
    data: { train: '../data/train.txt' },
    method: { preset: 'lora', rank: 2, position: ['attn.query', 'attn.value'], dropout: 0.1 },
    optimizer: { lr: 1e-3, betas: [0.9, 0.999] },
    seed: 3,
    name: 'listed',
  });
  assert.deepEqual(r.chain, ['listed.yaml', 'base.yaml', 'other.yaml'].map((f) => join(EXT, f)));
  assert.equal(r.locate(['method', 'rank']), `${rel(EXT, 'other.yaml')}:4:9`);
});

test('baseDir is the directory of the file that supplied the value (cwd for --set)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-resolve-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'base.yaml'), 'backbone: {path: ./model}\ndata: {train: a.txt}\n');
  writeFileSync(join(dir, 'child.yaml'), 'extends: sub/base.yaml\ndata: {validation: b.txt}\n');
  const r = resolveRecipe(join(dir, 'child.yaml'), { sets: ['data.test=c.txt'] });
  assert.equal(r.baseDir(['backbone', 'path']), join(dir, 'sub'));
  assert.equal(r.baseDir(['data', 'train']), join(dir, 'sub'));
  assert.equal(r.baseDir(['data', 'validation']), dir);
  assert.equal(r.baseDir(['data', 'test']), process.cwd());
  assert.deepEqual(r.doc.data, { train: 'a.txt', validation: 'b.txt', test: 'c.txt' }); // paths are not rewritten
});

test('a cycle in extends is an error naming the chain, at the extends that closes it', () => {
  const e = peftError(() => resolveRecipe(join(BROKEN, 'extends-cycle-a.yaml')));
  assert.equal(e.code, 'EXTENDS');
  const [a, b] = [rel(BROKEN, 'extends-cycle-a.yaml'), rel(BROKEN, 'extends-cycle-b.yaml')];
  assert.equal(e.message, `extends cycle: ${a} → ${b} → ${a}`);
  assert.equal(e.where, `${b}:2:10`);
  const dir = mkdtempSync(join(tmpdir(), 'peft-cycle-'));
  writeFileSync(join(dir, 'self.yaml'), 'extends: ./self.yaml\n');
  assert.equal(peftError(() => resolveRecipe(join(dir, 'self.yaml'))).message, `extends cycle: ${rel(dir, 'self.yaml')} → ${rel(dir, 'self.yaml')}`);
});

test('a cycle through a symlinked directory, a directory, a fan-out bomb: one error at the extends line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-symcycle-'));
  symlinkSync('.', join(dir, 'loop'));
  writeFileSync(join(dir, 'a.yaml'), 'seed: 1\nextends: ./loop/a.yaml\n');
  const e = peftError(() => resolveRecipe(join(dir, 'a.yaml')));
  assert.equal(e.code, 'EXTENDS');
  assert.equal(e.message, `extends cycle: ${rel(dir, 'a.yaml')} → ${rel(dir, 'loop/a.yaml')}`);
  assert.equal(e.where, `${rel(dir, 'a.yaml')}:2:10`);
  mkdirSync(join(dir, 'base'));
  writeFileSync(join(dir, 'b.yaml'), 'extends: ./base\n');
  const d = peftError(() => resolveRecipe(join(dir, 'b.yaml')));
  assert.equal(d.message, 'extends names a directory: ./base');
  assert.equal(d.where, `${rel(dir, 'b.yaml')}:1:10`);
  for (const [i, next] of ['c1', 'c2', 'c3', 'c4', null].entries()) {
    writeFileSync(join(dir, `c${i}.yaml`), next ? `extends: [${Array(8).fill(`./${next}.yaml`).join(', ')}]\n` : 'seed: 1\n');
  }
  assert.match(peftError(() => resolveRecipe(join(dir, 'c0.yaml'))).message, /extends loads more than \d+ files/);
});

test('a missing extended file is an error at its extends entry; a diamond is not a cycle', () => {
  const e = peftError(() => resolveRecipe(join(BROKEN, 'extends-missing.yaml')));
  assert.equal(e.code, 'EXTENDS');
  assert.equal(e.message, 'extended file not found: ./no-such-base.yaml');
  assert.equal(e.where, `${rel(BROKEN, 'extends-missing.yaml')}:3:5`);
  const dir = mkdtempSync(join(tmpdir(), 'peft-diamond-'));
  writeFileSync(join(dir, 'root.yaml'), 'seed: 1\n');
  writeFileSync(join(dir, 'left.yaml'), 'extends: root.yaml\nname: left\n');
  writeFileSync(join(dir, 'right.yaml'), 'extends: root.yaml\ndescription: right\n');
  writeFileSync(join(dir, 'top.yaml'), 'extends: [left.yaml, right.yaml]\n');
  const r = resolveRecipe(join(dir, 'top.yaml'));
  assert.deepEqual(r.doc, { seed: 1, name: 'left', description: 'right' });
  assert.deepEqual(r.chain, ['top', 'left', 'root', 'right'].map((f) => join(dir, `${f}.yaml`)));
  writeFileSync(join(dir, 'bad.yaml'), 'extends: {file: x}\n');
  assert.equal(peftError(() => resolveRecipe(join(dir, 'bad.yaml'))).message, 'extends must be a path or a list of paths');
});

test('--set values are YAML: numbers, lists, booleans, strings, null', () => {
  const value = (text: string) => {
    const r = resolveRecipe(join(EXT, 'base.yaml'), { sets: [text] });
    return text.split('=')[0]!.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], r.doc);
  };
  assert.equal(value('optimizer.lr=3e-4'), 3e-4);
  assert.deepEqual(value('method.layers=[0,1]'), [0, 1]);
  assert.equal(value('method.train_head=true'), true);
  assert.equal(value('name=foo'), 'foo');
  assert.equal(value('training.max_grad_norm='), null);
  assert.equal(value('generate.prompt="a: b"'), 'a: b');
  assert.deepEqual(value('method.layers={top: 2}'), { top: 2 });
});

test('--set creates intermediate mappings, indexes lists, and is located as --set', () => {
  const r = resolveRecipe(join(EXT, 'base.yaml'), { sets: ['training.early_stopping.patience=3', 'optimizer.betas.1=0.95', 'method.rank=9'] });
  assert.deepEqual(r.doc.training, { early_stopping: { patience: 3 } });
  assert.deepEqual((r.doc.optimizer as Record<string, unknown>).betas, [0.9, 0.95]);
  assert.equal((r.doc.method as Record<string, unknown>).rank, 9);
  assert.equal(r.locate(['training', 'early_stopping', 'patience']), '--set training.early_stopping.patience=3');
  assert.equal(r.locate(['training']), '--set training.early_stopping.patience=3');
  assert.equal(r.locate(['optimizer', 'betas', 1]), '--set optimizer.betas.1=0.95');
  assert.equal(r.locate(['method', 'rank']), '--set method.rank=9');
  assert.equal(r.locateKey(['method', 'rank']), `${rel(EXT, 'base.yaml')}:7:3`); // the key is still the file's
});

test('a --set through a scalar is a RECIPE error; a malformed --set is a USAGE error', () => {
  const e = peftError(() => resolveRecipe(join(EXT, 'child.yaml'), { sets: ['data.train.limit=5'] }));
  assert.equal(e.code, 'RECIPE');
  assert.equal(e.message, 'data.train is "../data/train.txt", not a mapping');
  assert.equal(e.where, '--set data.train.limit=5');
  for (const [text, message] of [
    ['method.rank', '--set method.rank: no "=" between key and value'],
    ['=3', '--set =3: empty key'],
    ['method..rank=3', '--set method..rank=3: empty segment in key "method..rank"'],
    ['.rank=3', '--set .rank=3: empty segment in key ".rank"'],
    ['extends=./other.yaml', '--set extends=./other.yaml: extends cannot be overridden'],
  ]) {
    const u = peftError(() => parseSet(text!));
    assert.equal(u.code, 'USAGE');
    assert.equal(u.message, message);
    assert.ok(u.hint);
  }
  const bad = peftError(() => resolveRecipe(join(EXT, 'base.yaml'), { sets: ['method.layers=[0,'] }));
  assert.equal(bad.code, 'USAGE');
  assert.match(bad.message, /^--set method\.layers=\[0,: the value is not valid YAML \(/);
});
