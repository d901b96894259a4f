// The recipe's `generate:` section as options, and the mistakes generate reports as typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend, SKIP_NO_SHARED, fixture } from '../../helpers/fixtures.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { loadBackbone } from '../../../src/engine/backbones/index.js';
import { generate, generateOptionsFromPlan, maskPositions } from '../../../src/engine/generate/index.js';
import { PeftError } from '../../../src/errors.js';
import { fixtureModel } from './helpers.js';

const plain = () => ForwardContext.plain(false);

test('generate: options from the plan', () => {
  const o = generateOptionsFromPlan({
    prompt: 'x', maxNewTokens: 9, strategy: 'beam', temperature: 0.7, topK: 3, topP: 0.8, numBeams: 5,
    lengthPenalty: 0.6, minNewTokens: 2, noRepeatNgramSize: 3,
  }, 42);
  assert.deepEqual(o, {
    strategy: 'beam', maxNewTokens: 9, minNewTokens: 2, temperature: 0.7, topK: 3, topP: 0.8, numBeams: 5,
    lengthPenalty: 0.6, noRepeatNgramSize: 3, seed: 42,
  });
});

test('positions of a left-padded row: the mask\'s cumulative sum − 1, padding at 1 (as transformers)', () => {
  assert.deepEqual(maskPositions([0, 0, 1, 1, 1]), [1, 1, 0, 1, 2]);
  assert.deepEqual(maskPositions([1, 1]), [0, 1]);
});

test('generate: typed errors for what cannot be generated', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const gpt2 = fixtureModel('gpt2');
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof PeftError && e.code === code && re.test(e.message);
  assert.throws(() => generate(gpt2, plain, { inputIds: [[1]] }, { maxNewTokens: 0 }), is('RECIPE', /max_new_tokens/));
  assert.throws(() => generate(gpt2, plain, { inputIds: [[1]] }, { maxNewTokens: 3, numReturnSequences: 2 }), is('RECIPE', /greedy/));
  assert.throws(() => generate(gpt2, plain, { inputIds: [[1]] }, { strategy: 'beam', numBeams: 2, numReturnSequences: 3, maxNewTokens: 3 }), is('RECIPE', /num_beams/));
  assert.throws(() => generate(gpt2, plain, { inputIds: [[1], []] }, { maxNewTokens: 3 }), is('DATA', /row 1 has no tokens/));
  assert.throws(() => generate(gpt2, plain, { inputIds: [new Array(64).fill(3)] }, { maxNewTokens: 3 }), is('DATA', /positions/));
  assert.throws(() => generate(gpt2, plain, { inputIds: [[1, 2]], attentionMask: [[1]] }, { maxNewTokens: 3 }), is('DATA', /attention mask/));
  const cls = loadBackbone(fixture('models', 'llama'), { task: 'seq-cls', numLabels: 2 }).model;
  assert.throws(() => generate(cls, plain, { inputIds: [[1]] }, { maxNewTokens: 3 }), is('RECIPE', /causal-lm or seq2seq/));
  // learned positions bound the new tokens: 64 positions, a prompt of 60 leaves room for 4
  const r = generate(gpt2, plain, { inputIds: [new Array(60).fill(3)] }, { maxNewTokens: 10, eosTokenId: null });
  assert.equal(r.sequences[0].length, 4);
});
