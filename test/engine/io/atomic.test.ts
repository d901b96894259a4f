import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepStaleTemps, writeFileAtomic, writeJsonAtomic } from '../../../src/engine/io/atomic.js';
import { PeftError } from '../../../src/errors.js';

const TMP = mkdtempSync(join(tmpdir(), 'peft-atomic-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const tmp = () => mkdtempSync(join(TMP, 'd-'));

test('writes text, bytes and chunk sequences, creating parent directories', () => {
  const dir = tmp();
  assert.equal(writeFileAtomic(join(dir, 'a.txt'), 'héllo'), 6);
  assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'héllo');
  writeFileAtomic(join(dir, 'sub/deeper/b.bin'), Uint8Array.from([1, 2, 3]));
  assert.deepEqual([...readFileSync(join(dir, 'sub/deeper/b.bin'))], [1, 2, 3]);
  function* chunks() {
    yield Uint8Array.from([1]);
    yield new Uint8Array(0);
    yield Uint8Array.from([2, 3]);
  }
  assert.equal(writeFileAtomic(join(dir, 'c.bin'), chunks()), 3);
  assert.deepEqual([...readFileSync(join(dir, 'c.bin'))], [1, 2, 3]);
  writeJsonAtomic(join(dir, 'd.json'), { a: [1, 2] });
  assert.equal(readFileSync(join(dir, 'd.json'), 'utf8'), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
});

test('replaces an existing file and leaves no temporary file behind', () => {
  const dir = tmp();
  const p = join(dir, 'f.txt');
  writeFileSync(p, 'old');
  writeFileAtomic(p, 'new');
  assert.equal(readFileSync(p, 'utf8'), 'new');
  assert.deepEqual(readdirSync(dir), ['f.txt']);
});

test('a failure while writing keeps the old file intact and cleans up', () => {
  const dir = tmp();
  const p = join(dir, 'f.txt');
  writeFileSync(p, 'old');
  function* failing() {
    yield Buffer.from('partial');
    throw new Error('disk on fire');
  }
  assert.throws(() => writeFileAtomic(p, failing()), (e: unknown) => e instanceof PeftError && e.code === 'FILE' && e.where === p && /disk on fire/.test(e.message));
  assert.equal(readFileSync(p, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['f.txt']);
});

test('an impossible target is a one-line FILE error with a hint', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'file'), 'x');
  assert.throws(() => writeFileAtomic(join(dir, 'file', 'child.txt'), 'y'), (e: unknown) => {
    assert.ok(e instanceof PeftError);
    assert.equal(e.code, 'FILE');
    assert.equal(e.where, join(dir, 'file', 'child.txt'));
    assert.ok(e.hint);
    assert.ok(!e.toLine().includes('\n'));
    return true;
  });
});

test('temporaries of killed writes are swept: a dead writer\'s are removed, a live one\'s and other files kept', () => {
  const dir = tmp();
  const dead = join(dir, '.a.json.99999999.deadbeef.tmp'); // no process has this id (pid_max ≤ 2^22)
  const live = join(dir, `.a.json.${process.ppid}.0badf00d.tmp`);
  const other = join(dir, '.b.json.99999999.cafebabe.tmp');
  for (const p of [dead, live, other, join(dir, 'keep.tmp')]) writeFileSync(p, 'x');
  // a write of a.json sweeps a.json's dead temporaries only
  writeFileAtomic(join(dir, 'a.json'), '{}');
  assert.deepEqual(readdirSync(dir).sort(), ['.a.json.' + process.ppid + '.0badf00d.tmp', '.b.json.99999999.cafebabe.tmp', 'a.json', 'keep.tmp'].sort());
  // a sweep of the directory removes every dead writer's temporary (a checkpoint's directory too)
  mkdirSync(join(dir, '.step-8.99999999.01234567.tmp', 'adapter'), { recursive: true });
  const removed = sweepStaleTemps(dir).map((p) => p.slice(dir.length + 1)).sort();
  assert.deepEqual(removed, ['.b.json.99999999.cafebabe.tmp', '.step-8.99999999.01234567.tmp']);
  assert.ok(readdirSync(dir).includes(`.a.json.${process.ppid}.0badf00d.tmp`));
});
