// Ctrl-C during training: the loop yields to the event loop every step, so the SIGINT handler
// runs mid-training; the run checkpoints after the current step, prints the resume command and
// exits 130; `--resume` then ends bit-identical to an uninterrupted run. Sent as a plain signal
// and as a real Ctrl-C typed into a pseudo-terminal (util-linux `script`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, peftCli } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';

const RECIPE = 'test/fixtures/e2e/interrupt.yaml';
const HAVE_SCRIPT = spawnSync('script', ['--version']).status === 0;

interface Ended { code: number | null; signal: NodeJS.Signals | null; out: string }

/** Runs `command` (argv) and `interrupt(child)` once its output matches `when`. */
function runUntil(command: string[], when: RegExp, interrupt: (c: ReturnType<typeof spawn>) => void): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: REPO, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      if (!sent && when.test(out)) {
        sent = true;
        interrupt(child);
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

function onlyRun(out: string): string {
  const d = join(out, 'interrupt');
  const runs = readdirSync(d);
  assert.equal(runs.length, 1, `one run directory: ${runs.join(', ')}`);
  return join(d, runs[0]!);
}

function adapterOf(run: string): Buffer {
  return readFileSync(join(run, 'adapter', 'adapter_model.safetensors'));
}

test('SIGINT mid-training: checkpoint, resume command, exit 130; --resume ends bit-identical to an uninterrupted run', { timeout: 900_000 }, async () => {
  const refOut = mkdtempSync(join(tmpdir(), 'peft-int-ref-'));
  const ref = peftCli(['train', RECIPE, '--output', refOut]);
  assert.equal(ref.code, 0, ref.stderr);

  const out = mkdtempSync(join(tmpdir(), 'peft-int-'));
  const r = await runUntil([process.execPath, BIN, 'train', RECIPE, '--output', out], /^step 5\/40/m, (c) => c.kill('SIGINT'));
  assert.equal(r.signal, null, r.out);
  assert.equal(r.code, 130, r.out);
  const step = Number(/interrupted at step (\d+)\/40; checkpoint saved/.exec(r.out)?.[1]);
  assert.ok(step >= 5 && step < 40, `stopped at step ${step}, not at the end:\n${r.out}`);
  const run = onlyRun(out);
  assert.match(r.out, new RegExp(`hint: resume with: peft train --resume ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  assert.ok(existsSync(join(run, 'checkpoints', `step-${step}`, 'trainer_state.json')), 'the checkpoint of the interrupted step');

  const resumed = peftCli(['train', '--resume', run]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`resuming from .*step-${step} \\(step ${step}/40\\)`));
  assert.ok(adapterOf(run).equals(adapterOf(onlyRun(refOut))), 'the resumed run ends bit-identical to the uninterrupted one');
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as { steps: number };
  assert.equal(summary.steps, 40);
});

test('Ctrl-C typed into a real terminal stops training the same way', { timeout: 600_000, skip: HAVE_SCRIPT ? false : 'needs util-linux script (a pseudo-terminal)' }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'peft-int-pty-'));
  const cmd = [process.execPath, BIN, 'train', RECIPE, '--output', out].map((a) => `'${a}'`).join(' ');
  // script runs the command on a new pseudo-terminal; ETX (Ctrl-C) written to it makes the
  // terminal send SIGINT to the foreground process group, as a keyboard does
  const r = await runUntil(['script', '-qfec', cmd, '/dev/null'], /\| [5-9]\/40 \|/, (c) => c.stdin!.write('\x03'));
  assert.equal(r.signal, null, r.out);
  assert.equal(r.code, 130, r.out);
  assert.match(r.out, /interrupt: saving a checkpoint after this step/);
  assert.match(r.out, /interrupted at step \d+\/40; checkpoint saved \(hint: resume with: peft train --resume /);
  const run = onlyRun(out);
  assert.ok(readdirSync(join(run, 'checkpoints')).some((n) => /^step-\d+$/.test(n)));
});
