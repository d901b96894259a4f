// The hostile-input corpus: one directory per case under test/fixtures/hostile/<case>/, holding
// its inputs and expected.json (the command, what to set up, the exit code, the message's shape,
// what must or must not be on disk afterwards). Each case is copied to a temporary directory
// (`@REPO@` and `@CASE@` in its text files become the repository and that directory), set up,
// and run through the real `bin/peft`. The promise checked for every case: no crash, no hang, one
// line with the place and a hint, the exit code, nothing written where it must not be.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';
import { applySetup, expand, inCase, type Setup, type SetupContext } from '../helpers/hostile-setup.js';

const CORPUS = join(REPO, 'test', 'fixtures', 'hostile');

interface Expected {
  /** Which class of failure the case belongs to (issue 11's "what it must show", 1–6). */
  class: number;
  description: string;
  args: string[];
  setup?: Setup[];
  exit: number;
  /** A regular expression the error output (stderr, or stdout+stderr with `anywhere`) must match. */
  message: string;
  anywhere?: boolean;
  /** Lines starting with "error:" on stderr (default 1 when exit is 2, 0 when exit is 0). */
  errorLines?: number;
  /** The error line must carry a hint (default: whenever the exit code is not 0). */
  hint?: boolean;
  /** A signal sent once the output (stdout or stderr) matches `after` (a regular expression). */
  signal?: { send: NodeJS.Signals; after: string };
  /** After the run: paths (relative to the case directory) that must exist / must not exist / byte-equal pairs. */
  present?: string[];
  absent?: string[];
  /** Directories that must be absent or empty (a failed run leaves nothing in them). */
  empty?: string[];
  same?: [string, string][];
  /** Root bypasses permissions: cases about them are skipped when the tests run as root. */
  needsNonRoot?: boolean;
  timeoutMs?: number;
}

interface Ended { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function run(args: string[], cwd: string, e: Expected): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), e.timeoutMs ?? 60_000);
    const watch = () => {
      if (e.signal && !sent && new RegExp(e.signal.after, 'm').test(stdout + stderr)) {
        sent = true;
        child.kill(e.signal.send);
      }
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      watch();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      watch();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const cases = existsSync(CORPUS) ? readdirSync(CORPUS).filter((n) => statSync(join(CORPUS, n)).isDirectory()).sort() : [];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A run trained once for the cases that damage, resume or merge one (copied per case). */
const ctx: SetupContext = { repo: REPO, trainedRun: null };

test('the corpus covers every class of issue 11 with 100+ cases', () => {
  const classes = new Set(cases.map((c) => (JSON.parse(readFileSync(join(CORPUS, c, 'expected.json'), 'utf8')) as Expected).class));
  assert.deepEqual([...classes].sort(), [1, 2, 3, 4, 5, 6]);
  assert.ok(cases.length >= 100, `${cases.length} cases`);
});

// two cases at a time (one per core); most end before any weights are read
describe('hostile corpus', { concurrency: 2 }, () => {
  before(async () => {
    if (!cases.some((c) => readFileSync(join(CORPUS, c, 'expected.json'), 'utf8').includes('"trainedRun"'))) return;
    const out = mkdtempSync(join(tmpdir(), 'peft-hostile-run-'));
    const r = await run(['train', join(CORPUS, '_trained-run.yaml'), '--output', out], REPO, { timeoutMs: 300_000 } as Expected);
    assert.equal(r.code, 0, `training the shared run failed: ${r.stderr}`);
    const dir = join(out, 'hostile-run');
    ctx.trainedRun = join(dir, readdirSync(dir)[0]!);
  });

  for (const name of cases) {
    const e = JSON.parse(readFileSync(join(CORPUS, name, 'expected.json'), 'utf8')) as Expected;
    const skip = e.needsNonRoot && isRoot ? 'root ignores file permissions' : false;
    test(`${name}: ${e.description}`, { skip }, async () => {
      const dir = mkdtempSync(join(tmpdir(), `peft-hostile-${name}-`));
      cpSync(join(CORPUS, name), dir, { recursive: true });
      const vars = { repo: REPO, case: dir, run: '' };
      expand(dir, vars);
      for (const step of e.setup ?? []) applySetup(step, dir, ctx, vars);
      const sub = (a: string) => a.replace(/@REPO@/g, REPO).replace(/@CASE@/g, dir).replace(/@RUN@/g, vars.run);
      const r = await run(e.args.map(sub), dir, e);
      const said = `exit ${r.code} (${r.signal ?? 'no signal'})\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`;
      assert.equal(r.signal, null, `killed: it hung or crashed\n${said}`);
      assert.equal(r.code, e.exit, said);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+\)?\n/, `an internal error or a stack trace\n${said}`);
      const text = e.anywhere ? r.stdout + r.stderr : r.stderr;
      assert.match(text, new RegExp(sub(e.message), 'm'), said);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
      assert.equal(errors.length, e.errorLines ?? (e.exit === 0 ? 0 : 1), `error lines\n${said}`);
      if (e.hint ?? e.exit !== 0) assert.ok(errors.every((l) => /\(hint: .+\)$/.test(l)), `every error has a hint\n${said}`);
      for (const p of e.present ?? []) assert.ok(existsSync(inCase(dir, sub(p))), `${p} must exist\n${said}`);
      for (const p of e.absent ?? []) assert.ok(!existsSync(inCase(dir, sub(p))), `${p} must not exist\n${said}`);
      for (const p of e.empty ?? []) assert.ok(!existsSync(inCase(dir, sub(p))) || readdirSync(inCase(dir, sub(p))).length === 0, `${p} must be empty\n${said}`);
      for (const [a, b] of e.same ?? []) assert.ok(readFileSync(inCase(dir, sub(a))).equals(readFileSync(sub(b))), `${a} must equal ${b}\n${said}`);
    });
  }
});
