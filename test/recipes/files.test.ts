import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandRecipePatterns, globFiles } from '../../src/recipes/index.js';

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'peft-glob-'));
  for (const f of ['a.yaml', 'b.yml', 'c.txt', 'sub/d.yaml', 'sub/e1.yaml', 'sub/deep/f.yaml', '.hidden/g.yaml', 'sub/.h.yaml']) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'seed: 1\n');
  }
  return dir;
}

test('globs: * within a segment, ? one character, ** any depth, hidden entries skipped', () => {
  const dir = tree();
  const rel = (files: string[]) => files.map((f) => f.slice(dir.length + 1));
  assert.deepEqual(rel(globFiles('*.yaml', dir)), ['a.yaml']);
  assert.deepEqual(rel(globFiles('**/*.yaml', dir)), ['a.yaml', 'sub/d.yaml', 'sub/deep/f.yaml', 'sub/e1.yaml']);
  assert.deepEqual(rel(globFiles('sub/??.yaml', dir)), ['sub/e1.yaml']);
  assert.deepEqual(rel(globFiles('sub/**/f.yaml', dir)), ['sub/deep/f.yaml']);
  assert.deepEqual(rel(globFiles('*/*.yaml', dir)), ['sub/d.yaml', 'sub/e1.yaml']);
  assert.deepEqual(rel(globFiles('.hidden/*.yaml', dir)), ['.hidden/g.yaml']);
  assert.deepEqual(rel(globFiles('sub/.*.yaml', dir)), ['sub/.h.yaml']);
  assert.deepEqual(rel(globFiles(join(dir, '*.y?l'))), ['b.yml']);
});

test('patterns: files as given, directories mean their .yaml/.yml files, unmatched globs reported', () => {
  const dir = tree();
  const r = expandRecipePatterns(['sub', 'a.yaml', '*.yaml', 'missing.yaml', 'none/**/*.yaml'], dir);
  assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)), ['sub/d.yaml', 'sub/deep/f.yaml', 'sub/e1.yaml', 'a.yaml', 'missing.yaml']);
  assert.deepEqual(r.unmatched, ['none/**/*.yaml']);
});
