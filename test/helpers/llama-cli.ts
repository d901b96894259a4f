// The tiny LLaMA fixture set up for the command line: a model directory and a recipe in a
// temporary folder, the fixture's inputs as rows of token ids, and `peft predict --logits` on them.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from './cli.js';
import { SHARED } from './fixtures.js';

export interface LlamaCli {
  dir: string;
  recipe: string;
  ids: string;
}

export function llamaCli(): LlamaCli {
  const fix = join(SHARED, 'fixtures');
  const dir = mkdtempSync(join(tmpdir(), 'peft-llama-cli-'));
  mkdirSync(join(dir, 'model'));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fix, 'models', 'llama', f), join(dir, 'model', f));
  writeFileSync(join(dir, 'train.jsonl'), '{"text": "x"}\n');
  const recipe = join(dir, 'r.yaml');
  writeFileSync(recipe, 'name: llama-cli\nbackbone: {path: ./model}\ntask: {type: causal-lm}\ndata: {train: ./train.jsonl}\nmethod: {preset: lora, rank: 4}\noutput: {dir: ./runs}\n');
  const inp = JSON.parse(readFileSync(join(fix, 'models', 'llama', 'inputs.json'), 'utf8'));
  const [B, T] = inp.input_ids.shape as [number, number];
  const ids = join(dir, 'ids.jsonl');
  writeFileSync(ids, Array.from({ length: B }, (_, i) => JSON.stringify({
    input_ids: inp.input_ids.data.slice(i * T, (i + 1) * T), attention_mask: inp.attention_mask.data.slice(i * T, (i + 1) * T),
  })).join('\n') + '\n');
  return { dir, recipe, ids };
}

/** Every position's logits of both rows, flattened, with these extra predict arguments. */
export function predictLogits(s: LlamaCli, extra: string[], recipe = s.recipe): number[] {
  const out = join(s.dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = peftCli(['predict', recipe, ...extra, '--input', s.ids, '--output', out, '--logits', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(out, 'utf8').trim().split('\n').flatMap((l) => (JSON.parse(l).logits as number[][]).flat());
}
