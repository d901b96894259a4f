// Beam search: with one beam it is greedy decoding; on a tiny model with enough beams to be
// exhaustive, it returns the best-scoring sequence of an exhaustive search over every sequence
// of at most 3 new tokens (scored sum_logprobs / length ** length_penalty, eos counted); the
// hypothesis list keeps transformers' rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { generate, logSoftmax, BeamHypotheses } from '../../../src/engine/generate/index.js';
import type { TaskModel } from '../../../src/engine/backbones/index.js';
import { fixtureModel, stories, tinyLlama } from './helpers.js';

const plain = () => ForwardContext.plain(false);

test('beam search with num_beams = 1 is greedy decoding (stories260K, the LLaMA and T5 fixtures)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const cases: [TaskModel, number[][]][] = [
    [stories(), [[1], [1, 403, 407, 261, 378]]],
    [fixtureModel('llama'), [[5, 17, 33, 2, 8], [41, 9]]],
    [fixtureModel('t5'), [[5, 17, 33, 1], [41, 9, 1]]],
  ];
  for (const [model, inputIds] of cases) {
    for (const eosTokenId of [undefined, null]) {
      const greedy = generate(model, plain, { inputIds }, { maxNewTokens: 20, eosTokenId });
      const beam = generate(model, plain, { inputIds }, { strategy: 'beam', numBeams: 1, maxNewTokens: 20, eosTokenId });
      assert.deepEqual(beam.sequences, greedy.sequences, `${model.family} eos ${eosTokenId}`);
    }
  }
});

/** Log-probabilities of the next token after `ids` (a plain forward pass). */
function nextLogprobs(model: TaskModel, ids: number[]): Float64Array {
  const row = tf.tidy(() => {
    const out = model.forward({ inputIds: tf.tensor2d([ids], [1, ids.length], 'int32') }, plain());
    return tf.slice(out.logits, [0, ids.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
  });
  return logSoftmax(row);
}

/** Every sequence of ≤ maxNew tokens (ending at eos, or maxNew long) with its score. */
function exhaustive(model: TaskModel, prompt: number[], maxNew: number, eos: number, lp: number): { tokens: number[]; score: number }[] {
  const out: { tokens: number[]; score: number }[] = [];
  const walk = (tokens: number[], sum: number) => {
    const lps = nextLogprobs(model, [...prompt, ...tokens]);
    lps.forEach((l, v) => {
      const seq = [...tokens, v];
      if (v === eos || seq.length === maxNew) out.push({ tokens: seq, score: (sum + l) / seq.length ** lp });
      else walk(seq, sum + l);
    });
  };
  walk([], 0);
  return out.sort((a, b) => b.score - a.score);
}

test('beam search finds the best-scoring sequence of an exhaustive search (tiny model, ≤ 3 new tokens)', async () => {
  await useBackend();
  const V = 4;
  const eos = 0;
  for (const seed of [3, 4, 5, 6]) {
    const model = tinyLlama(V, seed);
    const prompt = [1, 2];
    for (const lengthPenalty of [1, 0.5, 2]) {
      const all = exhaustive(model, prompt, 3, eos, lengthPenalty);
      assert.equal(all.length, 1 + 3 + 9 + 27 + 0, 'eos after 0, 1 or 2 tokens, or 3 tokens');
      // (V − 1)² live beams × V tokens: every candidate of every step is considered
      const numBeams = (V - 1) * (V - 1) * V;
      const r = generate(model, plain, { inputIds: [prompt] }, {
        strategy: 'beam', numBeams, maxNewTokens: 3, lengthPenalty, earlyStopping: 'never', numReturnSequences: 5, eosTokenId: eos,
      });
      const best = all[0];
      assert.ok(Math.abs(r.scores![0] - best.score) < 1e-5, `seed ${seed} lp ${lengthPenalty}: ${r.scores![0]} vs ${best.score}`);
      if (all[1].score < best.score - 1e-5) assert.deepEqual(r.sequences[0], best.tokens, `seed ${seed} lp ${lengthPenalty}`);
      // the five best, in order
      r.scores!.forEach((s, i) => assert.ok(Math.abs(s - all[i].score) < 1e-5, `rank ${i}`));
      // the default stopping rule (transformers' early_stopping=False) and a few beams still find good sequences
      const small = generate(model, plain, { inputIds: [prompt] }, { strategy: 'beam', numBeams: 3, maxNewTokens: 3, lengthPenalty, eosTokenId: eos });
      assert.ok(all.some((h) => Math.abs(h.score - small.scores![0]) < 1e-5 && h.tokens.join() === small.sequences[0].join()), 'a real sequence with its score');
    }
  }
});

test('beam hypotheses: score sum / length ** penalty, keep the n best, stopping rules', () => {
  const h = new BeamHypotheses(2, 1, false, 10);
  h.add([5], -2, 2, true); // -1
  h.add([6, 7], -6, 3, true); // -2
  h.add([8], -1.5, 1, true); // -1.5 replaces -2
  assert.deepEqual(h.best(2).map((x) => x.score), [-1, -1.5]);
  h.add([9], -4, 2, true); // -2: not better than the worst
  assert.equal(h.items.length, 2);
  // early_stopping false: a best running sum of -2.8 at length 2 (-1.4) can still beat -1.5
  assert.equal(h.isDone(-2.8, 2), false);
  assert.equal(h.isDone(-3.2, 2), true);
  // 'never': the best it could reach is at the maximum length (-3.2 / 10 = -0.32)
  assert.equal(new BeamHypotheses(2, 1, 'never', 10).isDone(-3.2, 2), false);
  const never = new BeamHypotheses(1, 1, 'never', 4);
  never.add([1], -1, 1, true);
  assert.equal(never.isDone(-4.4, 2), true);
  assert.equal(never.isDone(-3.6, 2), false);
  // true: as soon as there are enough
  const eager = new BeamHypotheses(1, 1, true, 10);
  assert.equal(eager.isDone(0, 1), false);
  eager.add([1], -9, 1, true);
  assert.equal(eager.isDone(0, 1), true);
  // length penalty 2
  const lp = new BeamHypotheses(1, 2, false, 10);
  lp.add([1, 2], -8, 2, false);
  assert.equal(lp.items[0].score, -2);
});
