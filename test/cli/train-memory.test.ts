// Memory that fits the model: a short training run of stories260K (260K parameters; LoRA rank 8
// on all seven projections, batches of 32 × 128 tokens, evaluation before and after in batches of
// 64, as configs/glue/sst2-lora.yaml) peaks below 450 MB of resident memory, measured by the
// kernel (VmHWM of the `peft train` process). The run uses SST-2's longest rows, so every step
// and every evaluation batch is at the full 128 tokens: the largest tensors the recipe makes.
//
// Where the memory goes (measured when this test was written, native backend): ≈ 200 MB is Node,
// TensorFlow.js, tfjs-core's gradients and the model; the rest follows the largest working set.
// A training step holds ≈ 100 MB at once (backward frees as it goes: backend/lean-backprop.ts),
// an evaluation batch ≈ 50 MB (each layer's intermediates are freed when the layer ends in
// inference: nn/layer-scope.ts), and the native backend's buffer pool keeps about the largest
// of these for reuse. Measured: 350-382 MB (before both, 556-561 MB; with the layer scope alone
// 454 MB, with the lean backward alone 486 MB): a regression of either shows here, and the bound
// leaves ~70 MB for machines whose Node, glibc or thread count differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.js';
import { REPO } from '../helpers/fixtures.js';

const BOUND_MB = 450;

const skip = process.platform !== 'linux'
  ? 'peak resident memory is read from /proc (Linux only)'
  : !existsSync(join(REPO, 'build', 'Release', 'peft_native.node'))
    ? 'the native backend is not built (npm run build:native): the bound is for its run'
    : false;

/** The n rows of an SST-2 split with the longest texts. */
function longestRows(file: 'train' | 'dev', n: number): string {
  const rows = readFileSync(join(REPO, 'assets', 'data', 'sst2', `${file}.jsonl`), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const byLength = rows.map((l) => ({ l, n: (JSON.parse(l) as { text: string }).text.length })).sort((a, b) => b.n - a.n);
  return byLength.slice(0, n).map((r) => r.l).join('\n') + '\n';
}

// Writes the process's peak resident set (kB) to a file as it exits; loaded into `peft train`
// with --import, so what is measured is the CLI's own process.
const REPORT_PEAK = `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => {
  const m = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\\s+(\\d+)/);
  if (m) writeFileSync(process.env.PEFT_TEST_PEAK_FILE, m[1]);
});`;

test(`a short SST-2-sized training run of stories260K peaks below ${BOUND_MB} MB resident`, { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-train-memory-'));
  writeFileSync(join(dir, 'train.jsonl'), longestRows('train', 256));
  writeFileSync(join(dir, 'dev.jsonl'), longestRows('dev', 128));
  const recipe = join(dir, 'memory.yaml');
  writeFileSync(recipe, [
    'name: memory',
    `backbone: {path: ${join(REPO, 'assets', 'models', 'stories260K')}}`,
    'task: {type: seq-cls, labels: [negative, positive]}',
    'data: {train: ./train.jsonl, validation: ./dev.jsonl, max_length: 128}',
    'method: {preset: lora, rank: 8, alpha: 16, position: [attn.query, attn.key, attn.value, attn.out_proj, ffn.gate_proj, ffn.up_proj, ffn.down_proj]}',
    'training: {max_steps: 24, batch_size: 32, log_every: 8}',
    'optimizer: {name: adamw, lr: 3.0e-3}',
    'eval: {metrics: [accuracy], batch_size: 64}',
    `output: {dir: ${join(dir, 'runs')}}`,
    '',
  ].join('\n'));
  const peakFile = join(dir, 'peak-kb');
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REPORT_PEAK)}`, BIN, 'train', recipe, '--backend', 'native'], {
    cwd: dir, encoding: 'utf8', timeout: 600_000, env: { ...process.env, FORCE_COLOR: '0', PEFT_TEST_PEAK_FILE: peakFile },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /step 24\/24/, 'the run trained its 24 steps');
  assert.match(r.stdout, /after\s+validation/, 'and evaluated after');
  const peakMb = Number(readFileSync(peakFile, 'utf8')) / 1024;
  assert.ok(peakMb > 100, `a peak of ${peakMb.toFixed(0)} MB is not a training run's`);
  assert.ok(peakMb < BOUND_MB, `peak resident memory ${peakMb.toFixed(0)} MB, bound ${BOUND_MB} MB`);
});
