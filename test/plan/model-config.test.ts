// config.json sizes: bounded before anything is built from them; the geometry the planner checks
// module sizes against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogEntry, readModelSizes, siteDims } from '../../src/plan/index.js';
import { REPO } from '../helpers/fixtures.js';

const STORIES = JSON.parse(readFileSync(join(REPO, 'assets', 'models', 'stories260K', 'config.json'), 'utf8')) as Record<string, unknown>;
const llama = catalogEntry('llama');

test('a real config has no problems and gives its geometry', () => {
  const { sizes, problems } = readModelSizes(STORIES, llama);
  assert.deepEqual(problems, []);
  assert.deepEqual(sizes, {
    hidden: 64, layers: 5, heads: 8, kvHeads: 4, headDim: 8, intermediate: 172, vocab: 512, maxPositions: 512, positionsKey: 'max_position_embeddings',
  });
});

test('absurd, negative, fractional and non-numeric sizes are problems naming the key', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ num_hidden_layers: 1e9 }, /num_hidden_layers is 1000000000, more than 1024/],
    [{ vocab_size: 1e10 }, /vocab_size is 10000000000, more than 4194304/],
    [{ hidden_size: -64 }, /hidden_size is -64; a size must be at least 1/],
    [{ num_hidden_layers: 0 }, /num_hidden_layers is 0/],
    [{ intermediate_size: 2.5 }, /intermediate_size must be an integer \(got 2\.5\)/],
    [{ max_position_embeddings: '512' }, /max_position_embeddings must be an integer \(got "512"\)/],
    [{ num_attention_heads: 7 }, /hidden size 64 is not divisible by 7 attention heads/],
    [{ num_key_value_heads: 3 }, /8 attention heads cannot share 3 key\/value heads/],
  ];
  for (const [patch, message] of cases) {
    const { problems } = readModelSizes({ ...STORIES, ...patch }, llama);
    assert.equal(problems.length, 1, JSON.stringify(patch));
    assert.match(problems[0]!.message, message);
    assert.ok(problems[0]!.hint.length > 0);
  }
  // type_vocab_size may be 0 (DistilBERT-style), a null n_inner means "4 × n_embd" (GPT-2)
  assert.deepEqual(readModelSizes({ ...STORIES, type_vocab_size: 0, n_inner: null }, llama).problems, []);
  const gpt2 = readModelSizes({ model_type: 'gpt2', n_embd: 64, n_head: 4, n_layer: 2, n_positions: 32, n_inner: null }, catalogEntry('gpt2'));
  assert.equal(gpt2.sizes.intermediate, 256);
  assert.equal(gpt2.sizes.maxPositions, 32);
  assert.equal(gpt2.sizes.positionsKey, 'n_positions');
});

test('positions by family: defaults, RoBERTa\'s padding offset, none for relative positions', () => {
  assert.equal(readModelSizes({ model_type: 'llama', hidden_size: 64, num_attention_heads: 8 }, llama).sizes.maxPositions, 2048);
  assert.equal(readModelSizes({ model_type: 'bert' }, catalogEntry('bert')).sizes.maxPositions, 512);
  assert.equal(readModelSizes({ model_type: 'roberta', max_position_embeddings: 514 }, catalogEntry('roberta')).sizes.maxPositions, 512);
  assert.equal(readModelSizes({ model_type: 't5', n_positions: 512 }, catalogEntry('t5')).sizes.maxPositions, null);
  assert.equal(readModelSizes({ model_type: 'vit' }, catalogEntry('vit')).sizes.maxPositions, null);
});

test('site dimensions follow the projection at each position (grouped key/value heads narrower)', () => {
  const { sizes } = readModelSizes(STORIES, llama);
  assert.deepEqual(siteDims('attn.query', sizes), { in: 64, out: 64 });
  assert.deepEqual(siteDims('attn.value', sizes), { in: 64, out: 32 });
  assert.deepEqual(siteDims('ffn.up_proj', sizes), { in: 64, out: 172 });
  assert.deepEqual(siteDims('ffn.down_proj', sizes), { in: 172, out: 64 });
  assert.deepEqual(siteDims('ffn.output', sizes), { in: 64, out: 64 });
  assert.equal(siteDims('attn.query', { ...sizes, hidden: null }), null);
});
