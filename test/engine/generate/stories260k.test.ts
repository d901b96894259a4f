// stories260K greedy from BOS reproduces the 32 token ids its PROVENANCE.md records (an
// independent numpy forward pass, equal to the upstream readme's sample), and the text API
// decodes them to the same story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SHARED, HAVE_SHARED } from '../../helpers/fixtures.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { loadTokenizer } from '../../../src/engine/tokenizers/index.js';
import { injectMethod } from '../../../src/engine/methods/index.js';
import { generate, generateText } from '../../../src/engine/generate/index.js';
import type { Session } from '../../../src/engine/session.js';
import { STORIES, methodPlan, stories, withSteps } from './helpers.js';

/** The ids PROVENANCE.md lists under "Verified here" (BOS first). */
function provenanceIds(): number[] {
  const text = readFileSync(join(SHARED, 'models', 'stories260K', 'PROVENANCE.md'), 'utf8');
  const m = /Greedy from BOS, 32 steps: ids `([\d, ]+)`/.exec(text);
  assert.ok(m, 'PROVENANCE.md lists the greedy ids');
  return m[1]!.split(',').map((s) => Number(s.trim()));
}

test('stories260K greedy from BOS: the 32 token ids of its PROVENANCE.md, with and without the cache', { skip: HAVE_SHARED ? false : 'needs ../shared' }, async () => {
  await useBackend();
  const expected = provenanceIds();
  assert.equal(expected.length, 33);
  assert.equal(expected[0], 1);
  const model = stories();
  for (const useCache of [true, false]) {
    const r = withSteps(model, () => ForwardContext.plain(false), { inputIds: [[1]] }, { maxNewTokens: 32, eosTokenId: 2, useCache });
    assert.deepEqual([1, ...r.sequences[0]], expected, `useCache ${useCache}`);
    // the logits after [BOS], as PROVENANCE.md gives them (float64 reference: within 1e-3)
    const first = r.steps[0][0];
    let max = -Infinity;
    let min = Infinity;
    let sum = 0;
    for (const v of first) {
      max = Math.max(max, v);
      min = Math.min(min, v);
      sum += v;
    }
    assert.ok(Math.abs(max - 17.0235) < 1e-3, `max ${max}`);
    assert.ok(Math.abs(min - -8.0274) < 1e-3, `min ${min}`);
    assert.ok(Math.abs(sum / first.length - -2.0902) < 1e-3, `mean ${sum / first.length}`);
  }
});

test('stories260K generateText: the text API decodes the greedy story (and a prompt continues it)', async () => {
  await useBackend();
  const model = stories();
  const tokenizer = await loadTokenizer(STORIES);
  const peft = injectMethod(model, methodPlan({ preset: 'lora', rank: 2 }, 'causal-lm'), 0); // LoRA B = 0: the base model's outputs
  const session = { model, peft, tokenizer, modelDir: STORIES } as unknown as Session;
  const before = tf.memory().numTensors;
  const [story, continued] = generateText(session, ['', 'Once upon a time, there was a little girl'], { maxNewTokens: 32 });
  assert.match(story, /^Once upon a time, there was a little girl named Lily\. She loved to play outside in the park\./);
  assert.match(continued, /^ named Lily\./);
  // the same through generate on the tokenizer's ids
  const ids = tokenizer.encode('', { addSpecialTokens: true });
  assert.deepEqual(ids, [1]);
  const r = generate(model, () => peft.context({ training: false }), { inputIds: [ids] }, { maxNewTokens: 32, eosTokenId: 2 });
  assert.equal(tokenizer.decode(r.sequences[0], { skipSpecialTokens: true }), story);
  assert.equal(tokenizer.decode([1, ...r.sequences[0]], { skipSpecialTokens: true }), story);
  assert.equal(tf.memory().numTensors - before, 2, 'only the shared rotary table (cos, sin) stays, memoised by the model');
});
