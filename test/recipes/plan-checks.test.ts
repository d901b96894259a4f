// What a recipe points at and how big it makes things, checked by the planner.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetProblems, dataPathProblem, nameFromFile, readConfig } from '../../src/recipes/plan-checks.js';
import type { ModelSizes } from '../../src/plan/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'peft-plan-checks-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

test('the run name a file gives must be a valid name', () => {
  assert.deepEqual(nameFromFile('/x/sst2-lora.yaml'), { name: 'sst2-lora' });
  assert.deepEqual(nameFromFile('/x/v1.2.yml'), { name: 'v1.2' });
  for (const bad of ['/x/...yaml', '/x/.hidden.yaml', '/x/my recipe.yaml', '/x/.yaml']) {
    const r = nameFromFile(bad);
    assert.ok('error' in r, bad);
    assert.match(r.hint, /add name:/);
  }
});

test('data paths must be regular files; an IDX folder is allowed', () => {
  const file = join(TMP, 'train.txt');
  writeFileSync(file, 'hello\n');
  assert.equal(dataPathProblem(file, 'text'), null);
  assert.match(dataPathProblem('/dev/zero', 'text')!.message, /is a character device, not a regular file/);
  assert.match(dataPathProblem(TMP, 'jsonl')!.message, /is a directory/);
  assert.equal(dataPathProblem(TMP, 'idx'), null);
  assert.match(dataPathProblem(join(TMP, 'nope.txt'), 'text')!.message, /data file not found/);
  const fifo = join(TMP, 'in.fifo');
  execFileSync('mkfifo', [fifo]);
  assert.match(dataPathProblem(fifo, 'text')!.message, /is a FIFO \(named pipe\)/);
});

test('config.json: a regular file, a bounded size, one JSON object', () => {
  const dir = join(TMP, 'm');
  mkdirSync(dir);
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, '{"model_type": "llama"}');
  assert.deepEqual(readConfig(cfg), { config: { model_type: 'llama' } });
  writeFileSync(cfg, '[1]');
  assert.match((readConfig(cfg) as { error: string }).error, /must hold a JSON object/);
  writeFileSync(cfg, '{');
  assert.match((readConfig(cfg) as { error: string }).error, /not valid JSON/);
  truncateSync(cfg, 20 << 20);
  assert.match((readConfig(cfg) as { error: string }).error, /too large for a config\.json/);
});

test('token budgets: max_length and max_new_tokens within the positions, tokens per batch bounded', () => {
  const sizes = { maxPositions: 512, positionsKey: 'max_position_embeddings' } as ModelSizes;
  const base = { maxLength: 128, batchSize: 8, evalBatchSize: null, maxNewTokens: null, taskType: 'causal-lm' };
  assert.deepEqual(budgetProblems(base, sizes), []);
  assert.deepEqual(budgetProblems({ ...base, maxLength: 1024 }, sizes).map((p) => p[0].join('.')), ['data.max_length']);
  assert.deepEqual(budgetProblems({ ...base, maxNewTokens: 600 }, sizes).map((p) => p[0].join('.')), ['generate.max_new_tokens']);
  assert.deepEqual(budgetProblems({ ...base, batchSize: 65536, maxLength: 512 }, sizes).map((p) => p[0].join('.')), ['training.batch_size']);
  assert.deepEqual(budgetProblems({ ...base, evalBatchSize: 65536, maxLength: 512 }, sizes).map((p) => p[0].join('.')), ['eval.batch_size']);
  assert.deepEqual(budgetProblems({ ...base, maxLength: 1024 }, null), []);
});
