// A small sentiment run trained through the CLI, for the commands that read runs (eval, predict):
// stories260K with LoRA and a 2-label head, 48 SST-2 rows, a few steps.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { REPO } from './fixtures.js';
import { peftCli } from './cli.js';

export interface TrainedRun {
  dir: string;
  recipe: string;
  runDir: string;
  /** The validation rows (JSONL) the run evaluated on. */
  dev: string;
  summary: Record<string, any>;
}

export function sst2Rows(file: 'train' | 'dev', n: number): string[] {
  return readFileSync(join(REPO, 'assets', 'data', 'sst2', `${file}.jsonl`), 'utf8').split('\n').filter((l) => l.trim() !== '').slice(0, n);
}

export function trainRun(): TrainedRun {
  const dir = mkdtempSync(join(tmpdir(), 'peft-run-cli-'));
  const train = join(dir, 'train.jsonl');
  const dev = join(dir, 'dev.jsonl');
  writeFileSync(train, sst2Rows('train', 48).join('\n') + '\n');
  writeFileSync(dev, sst2Rows('dev', 20).join('\n') + '\n');
  const recipe = join(dir, 'sentiment.yaml');
  writeFileSync(recipe, [
    'name: sentiment',
    `backbone: {path: ${join(REPO, 'assets', 'models', 'stories260K')}}`,
    'task: {type: seq-cls, labels: [negative, positive]}',
    'data: {train: ./train.jsonl, validation: ./dev.jsonl, max_length: 24}',
    'method: {preset: lora, rank: 4, alpha: 8}',
    'training: {max_steps: 4, batch_size: 8, log_every: 2}',
    'eval: {metrics: [accuracy, f1, mcc], batch_size: 8}',
    `output: {dir: ${join(dir, 'runs')}}`,
    '',
  ].join('\n'));
  const r = peftCli(['train', recipe, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  return { dir, recipe, runDir: summary.run_dir, dev, summary };
}
