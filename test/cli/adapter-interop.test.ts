// Adapters saved by other tools, used from the CLI: `peft predict RECIPE --adapter DIR` loads a
// Python peft adapter or an AdapterHub adapter onto the recipe's backbone, and its class
// probabilities are the softmax of the logits the saving library computed (outputs.json).
// Reads ../shared/fixtures (the tiny BERT and its adapters); a WordPiece vocab.txt is written so
// that the words w15 … tokenize to the fixture's input ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peftCli } from '../helpers/cli.js';
import { SHARED, SKIP_NO_SHARED } from '../helpers/fixtures.js';

const FIX = join(SHARED, 'fixtures');

function setUp(): { dir: string; recipe: string; input: string } {
  const dir = mkdtempSync(join(tmpdir(), 'peft-interop-'));
  const model = join(dir, 'bert');
  mkdirSync(model);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(FIX, 'models', 'bert', f), join(model, f));
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...Array.from({ length: 96 }, (_, i) => `w${i + 4}`)];
  writeFileSync(join(model, 'vocab.txt'), vocab.join('\n') + '\n');
  const input = join(dir, 'in.jsonl');
  // fixture row 0: [CLS] 15 37 8 91 [SEP] 44 [SEP], token types 0×6 then 1×2
  writeFileSync(input, JSON.stringify({ text: 'w15 w37 w8 w91', text_b: 'w44' }) + '\n');
  const recipe = join(dir, 'interop.yaml');
  writeFileSync(recipe, [
    'name: interop',
    'backbone: {path: ./bert}',
    'task: {type: seq-cls, labels: [a, b, c]}',
    'data: {train: ./in.jsonl, max_length: 16}',
    'method: {preset: lora, rank: 4}',
    `output: {dir: ./runs}`,
    '',
  ].join('\n'));
  return { dir, recipe, input };
}

function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

for (const [tool, adapter] of [['Python peft', 'peft/bert-lora'], ['AdapterHub', 'adapters/bert-seq_bn'], ['AdapterHub', 'adapters/bert-par_bn']] as const) {
  test(`peft predict RECIPE --adapter: an adapter saved by ${tool} (${adapter}) gives the saving library's probabilities`, { skip: SKIP_NO_SHARED }, () => {
    const { dir, recipe, input } = setUp();
    const output = join(dir, 'out.jsonl');
    const r = peftCli(['predict', recipe, '--adapter', join(FIX, adapter), '--input', input, '--output', output, '--backend', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    const logits = JSON.parse(readFileSync(join(FIX, adapter, 'outputs.json'), 'utf8')).logits.data.slice(0, 3) as number[];
    const want = softmax(logits);
    const got = JSON.parse(readFileSync(output, 'utf8').trim());
    const probs = [got.probs.a, got.probs.b, got.probs.c] as number[];
    probs.forEach((p, i) => assert.ok(Math.abs(p - want[i]!) < 1e-4 * Math.max(1e-3, want[i]!), `class ${i}: ${p} vs ${want[i]}`));
    assert.equal(got.label, ['a', 'b', 'c'][want.indexOf(Math.max(...want))]);
  });
}

test('--adapter naming a directory without adapter_config.json is a FILE error, exit 2', { skip: SKIP_NO_SHARED }, () => {
  const { dir, recipe, input } = setUp();
  const r = peftCli(['predict', recipe, '--adapter', dir, '--input', input, '--output', join(dir, 'o.jsonl')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no adapter_config\.json in the adapter directory/);
});
