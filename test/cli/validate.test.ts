// `peft validate` and `peft schema` as users run them: spawn bin/peft.js (which runs dist/, so
// `npm run build` first) and read stdout, stderr and the exit code.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'peft.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'recipes');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function peft(args: string[], opts: { cwd?: string; nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Run {
  const started = performance.now();
  const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], {
    cwd: opts.cwd ?? FIXTURES,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

before(() => {
  // bin/peft.js runs dist/: a stale build would test old code.
  const stale: string[] = [];
  const check = (srcDir: string, distDir: string) => {
    for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) {
      const built = join(distDir, f.replace(/\.ts$/, '.js'));
      let builtAt = 0;
      try {
        builtAt = statSync(built).mtimeMs;
      } catch {
        /* missing */
      }
      if (builtAt < statSync(join(srcDir, f)).mtimeMs) stale.push(built);
    }
  };
  check(join(ROOT, 'src', 'recipes'), join(ROOT, 'dist', 'recipes'));
  check(join(ROOT, 'src', 'cli', 'commands'), join(ROOT, 'dist', 'cli', 'commands'));
  assert.deepEqual(stale, [], 'dist/ is older than src/: run `npm run build` first');
});

test('text: one line per issue with place, path, message and hint; a summary; exit 2', () => {
  const r = peft(['validate', 'good/minimal.yaml', 'broken/typo-key.yaml', 'broken/misplaced-key.yaml']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, [
    'broken/typo-key.yaml:4:3  method.rnak  unknown key "rnak" (did you mean "rank"?) (hint: rename it to "rank")',
    'broken/misplaced-key.yaml:5:3  training.lr  unknown key "lr" (hint: "lr" is a key of optimizer)',
    '3 files checked, 2 invalid, 2 errors',
    '',
  ].join('\n'));
});

test('globs are expanded by peft; all valid is exit 0', () => {
  const r = peft(['validate', 'good/*.yaml', 'extends/**/child.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const count = readdirSync(join(FIXTURES, 'good')).length + 1;
  assert.equal(r.stdout, `${count} files checked, 0 invalid, 0 errors\n`);
});

test('every file is checked even when one cannot be read; a pattern that matches nothing fails', () => {
  const r = peft(['validate', 'broken/binary.yaml', 'nope/*.yaml', 'good/minimal.yaml', 'missing.yaml']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, [
    'nope/*.yaml  no files match',
    'broken/binary.yaml:1:1  not a text file (binary data at byte 3) (hint: a recipe is a YAML text file (UTF-8))',
    'missing.yaml  no such file (hint: check the path (relative to the working directory))',
    '3 files checked, 2 invalid, 2 errors, 1 pattern matched nothing',
    '',
  ].join('\n'));
});

test('--format github prints workflow annotations', () => {
  const r = peft(['validate', '--format', 'github', 'broken/wrong-type.yaml', 'broken/duplicate-key.yaml', 'good/minimal.yaml', '--set', 'seed=-1']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, [
    '::error file=broken/wrong-type.yaml,line=4,col=9::method.rank must be integer ≥ 1 and ≤ 65536 (got "eight") (hint: method.rank: Rank r of lowrank / hadamard / svd modules.)',
    '::error file=broken/wrong-type.yaml::seed must be integer ≥ 0 and ≤ 4294967295 (got -1) (from --set seed=-1) (hint: seed: Seed of every random thing (init, data order, dropout).)',
    '::error file=broken/duplicate-key.yaml,line=6,col=3::duplicate key "rank" (first at line 4) (hint: a key may appear once per mapping: delete one)',
    '::error file=good/minimal.yaml::seed must be integer ≥ 0 and ≤ 4294967295 (got -1) (from --set seed=-1) (hint: seed: Seed of every random thing (init, data order, dropout).)',
    '3 files checked, 3 invalid, 4 errors',
    '',
  ].join('\n'));
});

test('--json (and --format json) prints one JSON document on stdout', () => {
  for (const flag of [['--json'], ['--format', 'json']]) {
    const r = peft(['validate', ...flag, 'good/minimal.yaml', 'broken/wrong-type.yaml']);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as unknown;
    assert.deepEqual(doc, {
      ok: false,
      files: [
        { file: 'good/minimal.yaml', valid: true, issues: [] },
        {
          file: 'broken/wrong-type.yaml',
          valid: false,
          issues: [{ where: 'broken/wrong-type.yaml:4:9', path: 'method.rank', message: 'must be integer ≥ 1 and ≤ 65536 (got "eight")', hint: 'method.rank: Rank r of lowrank / hadamard / svd modules.' }],
        },
      ],
    });
    assert.equal(r.stderr, '2 files checked, 1 invalid, 1 error\n');
  }
  const ok = peft(['validate', '--json', 'good/minimal.yaml']);
  assert.equal(ok.code, 0);
  assert.equal((JSON.parse(ok.stdout) as { ok: boolean }).ok, true);
});

test('a malformed --set is a usage error: one line, exit 2, nothing validated', () => {
  const r = peft(['validate', 'good/minimal.yaml', '--set', 'method.rank']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'error: --set method.rank: no "=" between key and value (hint: write --set key.path=value, e.g. --set optimizer.lr=3e-4)\n');
});

test('peft schema prints schemas/recipe.schema.json', () => {
  const r = peft(['schema']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, readFileSync(join(ROOT, 'schemas', 'recipe.schema.json'), 'utf8'));
  assert.equal(peft(['schema', '--path']).stdout, `${join(ROOT, 'schemas', 'recipe.schema.json')}\n`);
});

/** Runs node with a loader hook that logs every module it resolves (and CommonJS ones at exit). */
function withLoadLog(args: string[], script?: string): { run: Run; loaded: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'peft-loads-'));
  const log = join(dir, 'loaded.log');
  writeFileSync(join(dir, 'hooks.mjs'), [
    "import { appendFileSync } from 'node:fs';",
    'export async function resolve(specifier, context, next) {',
    '  const result = await next(specifier, context);',
    "  appendFileSync(process.env.PEFT_LOAD_LOG, result.url + '\\n');",
    '  return result;',
    '}',
  ].join('\n'));
  writeFileSync(join(dir, 'register.mjs'), [
    "import { appendFileSync } from 'node:fs';",
    "import { createRequire, register } from 'node:module';",
    "register('./hooks.mjs', import.meta.url);",
    'const require = createRequire(import.meta.url);',
    "process.on('exit', () => { for (const k of Object.keys(require.cache)) appendFileSync(process.env.PEFT_LOAD_LOG, k + '\\n'); });",
  ].join('\n'));
  writeFileSync(log, '');
  const nodeArgs = ['--import', join(dir, 'register.mjs')];
  const env = { PEFT_LOAD_LOG: log };
  let run: Run;
  if (script === undefined) run = peft(args, { nodeArgs, env });
  else {
    const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    run = { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: 0 };
  }
  return { run, loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const TFJS = /[\\/]@tensorflow[\\/]/;

test('validate never loads TensorFlow.js', () => {
  const { run, loaded } = withLoadLog(['validate', 'good/*.yaml', 'broken/typo-key.yaml']);
  assert.equal(run.code, 2, run.stderr);
  // The log sees the modules validate really uses (so it would see TensorFlow.js too) …
  assert.ok(loaded.some((u) => u.endsWith('/dist/recipes/validate.js')), 'the load log works');
  assert.ok(loaded.some((u) => u.includes('/node_modules/ajv/')), 'CommonJS modules are logged too');
  // … and TensorFlow.js is not among them.
  assert.deepEqual(loaded.filter((u) => TFJS.test(u)), []);
});

test('the load check can fail: importing tfjs-core shows up in the log', () => {
  const { run, loaded } = withLoadLog([], "await import('@tensorflow/tfjs-core');");
  assert.equal(run.code, 0, run.stderr);
  assert.ok(loaded.some((u) => TFJS.test(u)));
});

test('validate loads nothing from src/engine', () => {
  const { loaded } = withLoadLog(['validate', 'good/minimal.yaml']);
  assert.deepEqual(loaded.filter((u) => /[\\/]dist[\\/]engine[\\/]/.test(u)), []);
});

test('100 recipes validate in one run (figure in the test log)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-many-'));
  const text = readFileSync(join(FIXTURES, 'good', 'lora.yaml'), 'utf8')
    .replace('../models/tiny-llama', join(FIXTURES, 'models', 'tiny-llama'))
    .replace(/\.\.\/data\//g, `${join(FIXTURES, 'data')}/`);
  for (let i = 0; i < 100; i++) writeFileSync(join(dir, `r${String(i).padStart(3, '0')}.yaml`), text.replace('tiny-lora', `tiny-lora-${i}`));
  const one = peft(['validate', 'r000.yaml'], { cwd: dir });
  const all = peft(['validate', '*.yaml'], { cwd: dir });
  assert.equal(all.code, 0, all.stdout + all.stderr);
  assert.equal(all.stdout, '100 files checked, 0 invalid, 0 errors\n');
  t.diagnostic(`validate 1 recipe: ${one.ms.toFixed(0)} ms wall; 100 recipes: ${all.ms.toFixed(0)} ms wall (node start included)`);
});
