// Small multi-task recipes for engine tests: two GLUE tasks from assets/ on stories260K, a few
// examples each, written to a temporary directory and planned like any recipe file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRecipeFile } from '../../src/recipes/index.js';
import type { Plan } from '../../src/plan/index.js';
import { REPO } from './fixtures.js';

export function twoTaskRecipe(extra: string, n = 8): { dir: string; file: string; plan: Plan } {
  const dir = mkdtempSync(join(tmpdir(), 'peft-tasks-'));
  const data = (task: string) => `{train: {path: ${join(REPO, 'assets', 'data', task, 'train.jsonl')}, limit: ${n}}, validation: {path: ${join(REPO, 'assets', 'data', task, 'dev.jsonl')}, limit: ${n}}}`;
  const file = join(dir, 'tasks.yaml');
  writeFileSync(file, `name: tasks
backbone: {path: ${join(REPO, 'assets', 'models', 'stories260K')}}
task: {pooling: last}
data: {max_length: 32}
tasks:
  - {name: sst2, task: {type: seq-cls, labels: [negative, positive]}, data: ${data('sst2')}}
  - {name: rte, task: {type: seq-cls, labels: [entailment, not_entailment]}, data: ${data('rte')}, eval: {metrics: [accuracy, f1]}}
optimizer: {lr: 1.0e-2}
output: {dir: ${join(dir, 'runs')}}
${extra}
`);
  const v = validateRecipeFile(file);
  if (!v.plan) throw new Error(v.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return { dir, file, plan: v.plan };
}
