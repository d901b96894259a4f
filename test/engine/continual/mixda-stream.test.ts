// Mixture-of-Domain-Adapters as two stages of one recipe: a domain stage trains the mixture's
// adapter on unlabelled text with the LM loss (the backbone's LM form over the same modules; the
// gate and the head untouched), then the task stage trains the gate and the head with the adapter
// frozen. The domain task is scored by perplexity and left out of the average accuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, useBackend } from '../../helpers/fixtures.js';
import { validateRecipeFile } from '../../../src/recipes/index.js';
import { runTraining } from '../../../src/engine/train/run.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import type { StreamSummary } from '../../../src/engine/continual/run-stream.js';

test('a mixda stream: the domain stage trains the adapter with the LM loss, the task stage the gate and head', async () => {
  await useBackend();
  const dir = mkdtempSync(join(tmpdir(), 'peft-mixda-'));
  const file = join(dir, 'mixda.yaml');
  const a = (p: string) => join(REPO, 'assets', p);
  writeFileSync(file, `name: mixda
backbone: {path: ${a('models/stories260K')}}
task: {pooling: last}
tasks:
  - {name: shakespeare, task: {type: causal-lm}, data: {train: {path: ${a('data/tinyshakespeare/train.txt')}, limit: 8}, validation: {path: ${a('data/tinyshakespeare/val.txt')}, limit: 4}, max_length: 32}}
  - {name: sst2, task: {type: seq-cls, labels: [negative, positive]}, data: {train: {path: ${a('data/sst2/train.jsonl')}, limit: 8}, validation: {path: ${a('data/sst2/dev.jsonl')}, limit: 8}, max_length: 32}}
stream: {strategy: mixda}
method: {preset: mixda, bottleneck: 8, gate_hidden: 8}
training: {epochs: 1, batch_size: 4, log_every: 1}
optimizer: {lr: 1.0e-2}
output: {dir: ${join(dir, 'runs')}}
`);
  const v = validateRecipeFile(file);
  assert.deepEqual(v.issues, []);
  const phases: string[] = [];
  const summary = await runTraining(v.plan!, {}, { onStage: (s) => phases.push(`${s.task}:${s.phase}`) }) as StreamSummary;
  assert.deepEqual(phases, ['shakespeare:domain', 'sst2:task']);
  const domain = openSafetensors(join(summary.run_dir, 'stages', '0-shakespeare', 'domain', 'adapter', 'adapter_model.safetensors'));
  const final = openSafetensors(join(summary.adapter_dir, 'adapter_model.safetensors'));
  const names = final.names();
  const changed = (n: string) => Array.from(domain.read(n)).some((x, i) => x !== final.read(n)[i]);
  const up = names.filter((n) => /experts\.0\.up\.weight$/.test(n));
  assert.ok(up.length > 0 && up.every((n) => Array.from(domain.read(n)).some((x) => x !== 0)), 'the domain stage moved the adapter (its up projection starts at zero)');
  assert.ok(up.every((n) => !changed(n)), 'the task stage left the adapter alone');
  assert.ok(names.filter((n) => n.includes('.gate.')).every(changed), 'the task stage trained the gate');
  assert.equal(summary.stream.metric.shakespeare, 'loss');
  assert.ok(typeof summary.tasks.shakespeare!.perplexity === 'number');
  assert.equal(summary.stream.average_accuracy, summary.tasks.sst2!.accuracy);
});
