// Sampling: reproducible from the seed (our xoshiro128** generator), top-k = 1 and a tiny top-p
// are greedy decoding, and draws follow the distribution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { Rng } from '../../../src/engine/data/rng.js';
import { generate, drawToken } from '../../../src/engine/generate/index.js';
import { fixtureModel, stories } from './helpers.js';

const plain = () => ForwardContext.plain(false);

test('sampling is reproducible from the seed, and different seeds differ', async () => {
  await useBackend();
  const model = stories();
  const run = (seed: number) => generate(model, plain, { inputIds: [[1], [1, 403]] }, { strategy: 'sample', maxNewTokens: 40, seed, temperature: 1.2 }).sequences;
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
  // an explicit generator continues its stream: two calls differ, and replay from the same state
  const rng = Rng.fromSeed(7, 7);
  const opts = { strategy: 'sample' as const, maxNewTokens: 40, temperature: 1.2, rng };
  const first = generate(model, plain, { inputIds: [[1], [1, 403]] }, opts).sequences;
  assert.deepEqual(first, run(7), 'seed s = Rng.fromSeed(s, 7)');
  assert.notDeepEqual(generate(model, plain, { inputIds: [[1], [1, 403]] }, opts).sequences, first);
});

test('top-k = 1 and a tiny top-p are greedy decoding', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  for (const [model, inputIds] of [[stories(), [[1], [1, 403, 407]]], [fixtureModel('gpt2'), [[5, 6, 7], [9]]], [fixtureModel('bart'), [[5, 17, 33, 2]]]] as const) {
    const greedy = generate(model, plain, { inputIds: inputIds.map((r) => [...r]) }, { maxNewTokens: 24 }).sequences;
    for (const seed of [1, 2]) {
      const k1 = generate(model, plain, { inputIds: inputIds.map((r) => [...r]) }, { strategy: 'sample', topK: 1, temperature: 3, maxNewTokens: 24, seed });
      assert.deepEqual(k1.sequences, greedy, `${model.family} top-k 1`);
      const p0 = generate(model, plain, { inputIds: inputIds.map((r) => [...r]) }, { strategy: 'sample', topP: 1e-6, maxNewTokens: 24, seed });
      assert.deepEqual(p0.sequences, greedy, `${model.family} top-p 1e-6`);
    }
  }
});

test('several samples per input: independent draws, in input order', async () => {
  await useBackend();
  const model = stories();
  const r = generate(model, plain, { inputIds: [[1], [1, 403]] }, { strategy: 'sample', maxNewTokens: 12, numReturnSequences: 3, seed: 4, temperature: 1.5 });
  assert.equal(r.sequences.length, 6);
  assert.ok(new Set(r.sequences.slice(0, 3).map((s) => s.join())).size > 1, 'the three draws of input 0 differ');
});

test('draws follow the distribution (cut tokens never come)', () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const scores = Float64Array.from([...probs.map(Math.log), -Infinity]);
  const rng = Rng.fromSeed(3, 7);
  const counts = [0, 0, 0, 0, 0];
  const n = 40000;
  for (let i = 0; i < n; i++) counts[drawToken(scores, rng)]++;
  probs.forEach((p, i) => assert.ok(Math.abs(counts[i] / n - p) < 0.01, `token ${i}: ${counts[i] / n} vs ${p}`));
  assert.equal(counts[4], 0);
});
