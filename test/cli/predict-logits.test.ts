// `peft predict --logits` on rows of token ids: the logits of every position, as the saving
// library computed them on the same ids (../shared fixtures: the tiny LLaMA with Python peft's
// LoRA adapter, and the tiny BERT classifier) — parity from the command line, no code needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { SHARED, SKIP_NO_SHARED, assertClose } from '../helpers/fixtures.js';

const FIX = join(SHARED, 'fixtures');

function setUp(family: 'llama' | 'bert', task: string): { dir: string; recipe: string } {
  const dir = mkdtempSync(join(tmpdir(), 'peft-logits-'));
  mkdirSync(join(dir, 'model'));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(FIX, 'models', family, f), join(dir, 'model', f));
  writeFileSync(join(dir, 'train.jsonl'), '{"text": "x", "label": 0}\n');
  const recipe = join(dir, 'r.yaml');
  writeFileSync(recipe, `name: logits\nbackbone: {path: ./model}\ntask: ${task}\ndata: {train: ./train.jsonl}\nmethod: {preset: lora, rank: 4}\noutput: {dir: ./runs}\n`);
  return { dir, recipe };
}

/** The fixture's inputs as token-id rows (padded positions marked by the mask). */
function idRows(family: string, extra: (i: number) => Record<string, unknown> = () => ({})): string {
  const inp = JSON.parse(readFileSync(join(FIX, 'models', family, 'inputs.json'), 'utf8'));
  const [B, T] = inp.input_ids.shape as [number, number];
  return Array.from({ length: B }, (_, i) => JSON.stringify({
    input_ids: inp.input_ids.data.slice(i * T, (i + 1) * T),
    attention_mask: inp.attention_mask.data.slice(i * T, (i + 1) * T),
    ...(inp.token_type_ids ? { token_type_ids: inp.token_type_ids.data.slice(i * T, (i + 1) * T) } : {}),
    ...extra(i),
  })).join('\n') + '\n';
}

test('--logits on token-id rows: a causal LM\'s logits at every position equal Python peft\'s (LLaMA + LoRA)', { skip: SKIP_NO_SHARED }, () => {
  const { dir, recipe } = setUp('llama', '{type: causal-lm}');
  writeFileSync(join(dir, 'ids.jsonl'), idRows('llama'));
  const r = peftCli(['predict', recipe, '--adapter', join(FIX, 'peft', 'llama-lora'), '--input', join(dir, 'ids.jsonl'), '--output', join(dir, 'out.jsonl'), '--logits', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const want = JSON.parse(readFileSync(join(FIX, 'peft', 'llama-lora', 'outputs.json'), 'utf8')).logits;
  const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).logits as number[][]);
  assert.equal(rows.length, 2);
  assert.deepEqual([rows[0].length, rows[0][0].length], [8, 100]);
  assertClose(rows.flat(2), want.data, 'logits of both rows, padded positions included');
});

test('--logits on a classifier: one vector per row; bad ids are one error with the row and a hint', { skip: SKIP_NO_SHARED }, () => {
  const { dir, recipe } = setUp('bert', '{type: seq-cls, num_labels: 3}');
  writeFileSync(join(dir, 'ids.jsonl'), idRows('bert'));
  const r = peftCli(['predict', recipe, '--adapter', join(FIX, 'peft', 'bert-lora'), '--input', join(dir, 'ids.jsonl'), '--output', join(dir, 'out.jsonl'), '--logits', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  const want = JSON.parse(readFileSync(join(FIX, 'peft', 'bert-lora', 'outputs.json'), 'utf8')).logits;
  const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).logits as number[]);
  assertClose(rows.flat(), want.data, 'class logits');

  writeFileSync(join(dir, 'bad.jsonl'), '{"input_ids": [1, 2, 3]}\n{"input_ids": [1, 100000]}\n');
  const bad = peftCli(['predict', recipe, '--input', join(dir, 'bad.jsonl'), '--output', join(dir, 'bad-out.jsonl'), '--logits', '--backend', 'cpu']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /bad\.jsonl:2.*input_ids holds 100000, not a token id of this model \(0 … 99\)/);
});
