// clip-cls through the CLI on the CLIP fixture (given a small word-level tokenizer): the label
// names written into the prompt templates, LoRA in both towers, training, evaluation and
// test-time adaptation (LAME over the image embeddings); the planner's checks of the task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, SKIP_NO_SHARED } from '../helpers/fixtures.js';
import { peftCli } from '../helpers/cli.js';
import { rng } from '../engine/backend/parity.js';

const WORDS = ['a', 'photo', 'of', 'cat', 'dog', 'bird', 'picture', 'the'];

/** A word-level tokenizer.json: <|startoftext|> text <|endoftext|>, the end token the highest id (CLIP's). */
function tokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<unk>': 1 };
  WORDS.forEach((w, i) => (vocab[w] = 3 + i));
  vocab['<|startoftext|>'] = 98;
  vocab['<|endoftext|>'] = 99;
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tok = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special('<|startoftext|>', 98), special('<|endoftext|>', 99)],
    normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' },
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
    post_processor: {
      type: 'TemplateProcessing', single: [tok('<|startoftext|>'), { Sequence: { id: 'A', type_id: 0 } }, tok('<|endoftext|>')],
      pair: [tok('<|startoftext|>'), { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, tok('<|endoftext|>')],
      special_tokens: {
        '<|startoftext|>': { id: '<|startoftext|>', ids: [98], tokens: ['<|startoftext|>'] },
        '<|endoftext|>': { id: '<|endoftext|>', ids: [99], tokens: ['<|endoftext|>'] },
      },
    },
    decoder: null,
  };
}

test('a clip-cls recipe trains LoRA in both towers, evaluates, and adapts at test time', { skip: SKIP_NO_SHARED }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-clip-'));
  const model = join(dir, 'clip');
  mkdirSync(model);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('models', 'clip', f), join(model, f));
  writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', unk_token: '<unk>' }));
  const r = rng(3);
  const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ image: Array.from({ length: 3 * 16 * 16 }, () => Math.round(255 * r())), shape: [3, 16, 16], label: ['cat', 'dog', 'bird'][i % 3] }));
  writeFileSync(join(dir, 'images.jsonl'), rows.join('\n') + '\n');
  const recipe = join(dir, 'clip.yaml');
  writeFileSync(recipe, [
    'name: zero-shot',
    `backbone: {path: ${model}}`,
    'task: {type: clip-cls, labels: [cat, dog, bird], prompts: ["a photo of a {label}", "the {label}"]}',
    'data: {train: ./images.jsonl, validation: ./images.jsonl}',
    'method: {preset: lora, position: [text.attn.value, vision.attn.value], rank: 2}',
    'training: {max_steps: 2, batch_size: 6}',
    `output: {dir: ${join(dir, 'runs')}}`,
    '',
  ].join('\n'));
  const t = peftCli(['train', recipe, '--json']);
  assert.equal(t.code, 0, t.stderr);
  const s = JSON.parse(t.stdout);
  assert.ok(s.before.accuracy >= 0 && s.after.accuracy <= 1);
  const e = peftCli(['eval', s.run_dir, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const a = peftCli(['adapt-test', s.run_dir, '--data', join(dir, 'images.jsonl'), '--method', 'lame', '--batch-size', '6', '--json']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout).examples, 12);

  writeFileSync(join(dir, 'bad.yaml'), ['extends: ./clip.yaml', 'task: {prompts: "a photo"}', ''].join('\n'));
  const v = peftCli(['validate', join(dir, 'bad.yaml')]);
  assert.equal(v.code, 2);
  assert.match(v.stdout + v.stderr, /task\.prompts +prompt "a photo" has no \{label\}/);
  writeFileSync(join(dir, 'nolabels.yaml'), [`backbone: {path: ${model}}`, 'task: {type: clip-cls}', 'data: {train: ./images.jsonl}', 'method: {preset: lora}', ''].join('\n'));
  const n = peftCli(['validate', join(dir, 'nolabels.yaml')]);
  assert.equal(n.code, 2);
  assert.match(n.stdout + n.stderr, /clip-cls builds its head from the label names: give task.labels/);
});
