// The recipes shipped in configs/: all validate (what CI runs), the GLUE ones read the committed
// data with the labels and metrics their task reports, and a shortened SST-2 run learns: its dev
// accuracy is well above the majority class of the dev labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/fixtures.js';
import { peftCli } from '../helpers/cli.js';
import { planRecipe, resolveRecipe } from '../../src/recipes/index.js';

test('peft validate \'configs/**/*.yaml\' passes', () => {
  const r = peftCli(['validate', 'configs/**/*.yaml', '--format', 'json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; files: { file: string; valid: boolean }[] };
  assert.equal(doc.ok, true);
  const names = doc.files.map((f) => f.file);
  for (const t of ['sst2', 'rte', 'mrpc', 'cola']) for (const m of ['lora', 'adapter']) assert.ok(names.includes(`configs/glue/${t}-${m}.yaml`), `${t}-${m}`);
  assert.ok(names.includes('configs/glue/base.yaml') && names.includes('configs/lm/tinyshakespeare-lora.yaml'));
  assert.ok(doc.files.every((f) => f.valid));
});

const GLUE: Record<string, { labels: string[]; metrics: string[]; pair: boolean }> = {
  sst2: { labels: ['negative', 'positive'], metrics: ['accuracy'], pair: false },
  rte: { labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], pair: true },
  mrpc: { labels: ['not_equivalent', 'equivalent'], metrics: ['accuracy', 'f1'], pair: true },
  cola: { labels: ['unacceptable', 'acceptable'], metrics: ['mcc', 'accuracy'], pair: false },
};

test('the GLUE recipes: stories260K with a last-token head, committed data, the metrics each task reports', () => {
  for (const [task, want] of Object.entries(GLUE)) {
    for (const method of ['lora', 'adapter']) {
      const file = join(REPO, 'configs', 'glue', `${task}-${method}.yaml`);
      const { plan, issues } = planRecipe(resolveRecipe(file));
      assert.deepEqual(issues, [], file);
      assert.equal(plan!.name, `${task}-${method}`);
      assert.equal(plan!.backbone.path, join(REPO, 'assets', 'models', 'stories260K'));
      assert.deepEqual([plan!.task.type, plan!.task.pooling], ['seq-cls', 'last']);
      assert.deepEqual(plan!.task.labels, want.labels);
      assert.deepEqual(plan!.eval.metrics, want.metrics);
      assert.equal(plan!.data.train!.path, join(REPO, 'assets', 'data', task, 'train.jsonl'));
      assert.equal(plan!.data.validation!.path, join(REPO, 'assets', 'data', task, 'dev.jsonl'));
      assert.equal(plan!.method.preset, method === 'lora' ? 'lora' : 'adapter-houlsby');
      assert.ok(plan!.method.trainHead, 'the head trains');
      const row = JSON.parse(readFileSync(plan!.data.validation!.path, 'utf8').split('\n')[0]!);
      assert.equal('text_b' in row, want.pair, `${task}: pairs`);
    }
  }
});

test('SST-2, shortened (2,000 examples, 2 epochs: 126 steps): dev accuracy ≥ the majority class + 8 points', { timeout: 300_000 }, () => {
  const dev = readFileSync(join(REPO, 'assets', 'data', 'sst2', 'dev.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).label as number);
  const ones = dev.filter((l) => l === 1).length;
  const majority = Math.max(ones, dev.length - ones) / dev.length;
  const out = mkdtempSync(join(tmpdir(), 'peft-sst2-'));
  const r = peftCli(['train', 'configs/glue/sst2-lora.yaml', '--output', out, '--json',
    '--set', 'data.train.limit=2000', '--set', 'training.epochs=2', '--set', 'training.eval_every=null', '--set', 'training.log_every=25']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.data.validation.examples, dev.length);
  assert.ok(s.after.accuracy >= majority + 0.08, `dev accuracy ${s.after.accuracy.toFixed(4)} vs majority ${majority.toFixed(4)} (+0.08 needed); before training ${s.before.accuracy.toFixed(4)}`);
});
