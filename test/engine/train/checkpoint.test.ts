// A checkpoint that hits a full disk: the run stops with one line saying which checkpoint it
// resumes from, leaves no half-written temporary directory, and resumes from that checkpoint.
// Needs a small tmpfs (root with CAP_SYS_ADMIN); skipped elsewhere.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../../helpers/cli.js';
import { REPO } from '../../helpers/fixtures.js';

const DISK = mkdtempSync(join(tmpdir(), 'peft-full-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', DISK]).status === 0;
after(() => {
  if (mounted) spawnSync('umount', [DISK]);
  rmSync(DISK, { recursive: true, force: true });
});

test('a full disk during a checkpoint: one line, no temporary left, the previous checkpoint resumes', { skip: mounted ? false : 'needs to mount a small tmpfs (root)', timeout: 600_000 }, () => {
  const recipe = join(mkdtempSync(join(tmpdir(), 'peft-full-recipe-')), 'full.yaml');
  writeFileSync(recipe, [
    'name: full',
    `backbone: {path: ${join(REPO, 'assets', 'models', 'stories260K')}}`,
    `data: {train: {path: ${join(REPO, 'assets', 'data', 'tinyshakespeare', 'train.txt')}, limit: 16}, max_length: 16}`,
    'method: {preset: lora, rank: 8}',
    'training: {max_steps: 40, batch_size: 2, checkpoint_every: 1, keep_checkpoints: 100}',
  ].join('\n'));
  const r = peftCli(['train', recipe, '--output', DISK]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const run = join(DISK, 'full', readdirSync(join(DISK, 'full'))[0]!);
  const m = /error: .*checkpoints {2}cannot write the checkpoint of step (\d+): no space left on the device \(hint: free some space; the run resumes from (.*step-(\d+)) \(peft train --resume /.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.equal(Number(m[3]), Number(m[1]) - 1);
  assert.deepEqual(readdirSync(join(run, 'checkpoints')).filter((n) => n.endsWith('.tmp')), [], 'no temporary checkpoint directory is left');
  // the run is resumable from what was kept (it fails again for lack of space, from the same checkpoint)
  const again = peftCli(['train', '--resume', run]);
  assert.match(again.stdout, new RegExp(`resuming from .*step-${m[3]} \\(step ${m[3]}/40\\)`));
});
