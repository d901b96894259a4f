// End-to-end: spawns bin/peft.js, which runs dist/ — run `npm run build` first (npm test does).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SKIP_NO_SHARED } from '../helpers/fixtures.js';

/** The project's shared data, beside the repository. */
const SHARED = resolve(import.meta.dirname, '../../../shared');

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/peft.js');
const SRC = join(SHARED, 'models/stories260K');
const MODEL = join(SRC, 'stories260K.bin');
const TOK = join(SRC, 'tok512.bin');
const ASSET = join(ROOT, 'assets/models/stories260K');
const FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

function peft(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const TMP = mkdtempSync(join(tmpdir(), 'peft-cli-convert-'));
after(() => rmSync(TMP, { recursive: true, force: true }));
const tmp = () => mkdtempSync(join(TMP, 'd-'));

test('dist is built', () => {
  assert.ok(existsSync(join(ROOT, 'dist/cli/commands/convert.js')), 'run `npm run build` before this test');
});

test('convert llama2c writes the HF directory and says what it wrote', { skip: SKIP_NO_SHARED }, () => {
  const out = join(tmp(), 'm');
  const r = peft('convert', 'llama2c', MODEL, '--tokenizer', TOK, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  for (const f of FILES) assert.match(r.stdout, new RegExp(`wrote ${join(out, f).replace(/[.]/g, '\\.')}`));
  assert.match(r.stdout, /260,032 parameters/);
  assert.deepEqual(readdirSync(out).sort(), [...FILES].sort());
});

test('--json prints exactly one document {ok, out, files, params}', { skip: SKIP_NO_SHARED }, () => {
  const out = join(tmp(), 'm');
  const r = peft('convert', 'llama2c', MODEL, '--tokenizer', TOK, '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, out, files: FILES, params: 260032 });
});

test('a truncated model fails with exit 2 and one line naming the file, the expected and the found size', { skip: SKIP_NO_SHARED }, () => {
  const d = tmp();
  const cut = join(d, 'cut.bin');
  writeFileSync(cut, readFileSync(MODEL).subarray(0, 700000));
  const r = peft('convert', 'llama2c', cut, '--tokenizer', TOK, '--out', join(d, 'o'));
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^error: ${cut.replace(/[.]/g, '\\.')} .*expected 1056540 bytes, found 700000`));
  assert.equal(r.stdout, '');
  assert.ok(!existsSync(join(d, 'o', 'model.safetensors')));
  const j = peft('convert', 'llama2c', cut, '--tokenizer', TOK, '--out', join(d, 'o'), '--json');
  assert.equal(j.code, 2);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.ok, false);
  assert.equal(doc.error.code, 'FORMAT');
  assert.equal(doc.error.where, cut);
});

test('refuses a non-empty output directory without --force', { skip: SKIP_NO_SHARED }, () => {
  const out = tmp();
  writeFileSync(join(out, 'notes.txt'), 'mine');
  const r = peft('convert', 'llama2c', MODEL, '--tokenizer', TOK, '--out', out);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /output directory is not empty.*--force/);
  assert.equal(readdirSync(out).length, 1);
  const f = peft('convert', 'llama2c', MODEL, '--tokenizer', TOK, '--out', out, '--force');
  assert.equal(f.code, 0, f.stderr);
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
});

test('usage errors: missing --tokenizer, unknown format, missing model file', () => {
  const d = tmp();
  assert.equal(peft('convert', 'llama2c', MODEL, '--out', join(d, 'a')).code, 2);
  const u = peft('convert', 'gguf', MODEL, '--tokenizer', TOK, '--out', join(d, 'b'));
  assert.equal(u.code, 2);
  assert.ok(!existsSync(join(d, 'b')), 'an unknown format must not convert anything');
  const m = peft('convert', 'llama2c', join(d, 'absent.bin'), '--tokenizer', TOK, '--out', join(d, 'c'));
  assert.equal(m.code, 2);
  assert.match(m.stderr, /absent\.bin\s+no such file/);
});

test('deterministic: converting twice gives byte-identical files, equal to the committed assets', { skip: SKIP_NO_SHARED }, () => {
  const d = tmp();
  for (const o of ['a', 'b']) assert.equal(peft('convert', 'llama2c', MODEL, '--tokenizer', TOK, '--out', join(d, o)).code, 0);
  for (const f of FILES) {
    const a = readFileSync(join(d, 'a', f));
    assert.ok(a.equals(readFileSync(join(d, 'b', f))), `${f} differs between two conversions`);
    assert.ok(a.equals(readFileSync(join(ASSET, f))), `assets/models/stories260K/${f} is not what the converter writes`);
  }
});
