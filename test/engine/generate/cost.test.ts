// What generation costs and leaves behind: with the cache, n new tokens take n decoder passes
// after the prompt's, each over one token per row (the encoder runs once); without it, every
// pass recomputes every position. And no tensor outlives a generate call, whatever the strategy,
// the attached modules, or an error in the middle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { generate, type GenerateOptions } from '../../../src/engine/generate/index.js';
import type { ModelInputs, TaskModel } from '../../../src/engine/backbones/index.js';
import { contextOf, fixtureModel, stories, withMethod } from './helpers.js';

interface Pass {
  /** Decoder-side tokens per row this pass processed. */
  tokens: number;
  /** Whether the encoder ran (encoder-decoders). */
  encoder: boolean;
  cached: boolean;
}

/** The model with its forward passes recorded. */
function spy(model: TaskModel): { model: TaskModel; passes: Pass[] } {
  const passes: Pass[] = [];
  const forward: TaskModel['forward'] = (inputs: ModelInputs, ctx, req) => {
    const dec = model.task === 'seq2seq' ? inputs.decoderInputIds! : inputs.inputIds!;
    passes.push({ tokens: dec.shape[1], encoder: model.task === 'seq2seq' && Boolean(inputs.inputIds), cached: Boolean(req?.cache) });
    return model.forward(inputs, ctx, req);
  };
  return { model: { ...model, forward }, passes };
}

test('O(n): with the cache each step processes one token per row; without it, every position again', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const n = 16;
  for (const name of ['llama', 'gpt2', 'bart', 't5']) {
    const base = fixtureModel(name);
    const prompt = [[5, 17, 33, 8, 2], [41, 9, 11]];
    const T0 = name === 'bart' || name === 't5' ? 1 : 5; // the decoder starts from its start token
    for (const strategy of ['greedy', 'beam'] as const) {
      const opts: GenerateOptions = { strategy, numBeams: 2, maxNewTokens: n, eosTokenId: null };
      const cached = spy(base);
      generate(cached.model, contextOf(null), { inputIds: prompt }, opts);
      assert.equal(cached.passes.length, n, `${name} ${strategy}: one pass per new token`);
      assert.deepEqual(cached.passes.map((p) => p.tokens), [T0, ...new Array(n - 1).fill(1)], `${name} ${strategy}: tokens per pass`);
      assert.ok(cached.passes.every((p) => p.cached));
      if (base.task === 'seq2seq') assert.deepEqual(cached.passes.map((p) => p.encoder), [true, ...new Array(n - 1).fill(false)], 'the encoder runs once');
      const full = spy(base);
      generate(full.model, contextOf(null), { inputIds: prompt }, { ...opts, useCache: false });
      assert.deepEqual(full.passes.map((p) => p.tokens), Array.from({ length: n }, (_, i) => T0 + i), `${name} ${strategy}: uncached grows`);
      const sum = (ps: Pass[]) => ps.reduce((a, p) => a + p.tokens, 0);
      assert.equal(sum(cached.passes), T0 + n - 1);
      assert.equal(sum(full.passes), n * T0 + (n * (n - 1)) / 2);
    }
  }
});

test('no tensor leaks: the live tensor count is the same before and after generate', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const cases: [string, TaskModel, number[][]][] = [
    ['stories260K', stories(), [[1], [1, 403, 407]]],
    ['gpt2', fixtureModel('gpt2'), [[5, 17, 33], [41]]],
    ['bart', fixtureModel('bart'), [[5, 17, 33, 2], [41, 2]]],
    ['t5', fixtureModel('t5'), [[5, 17, 33, 1], [41, 1]]],
  ];
  const strategies: GenerateOptions[] = [
    { maxNewTokens: 6 },
    { maxNewTokens: 6, useCache: false },
    { strategy: 'sample', maxNewTokens: 6, topK: 5, topP: 0.9, seed: 1 },
    { strategy: 'beam', numBeams: 3, maxNewTokens: 6, numReturnSequences: 2 },
  ];
  for (const [name, model, inputIds] of cases) {
    const prefix = withMethod(model, { function: 'prefix', length: 3 });
    const prompt = withMethod(model, { function: 'prompt', length: 2 });
    for (const peft of [null, prefix, prompt]) {
      for (const opts of strategies) {
        const run = () => generate(model, contextOf(peft), { inputIds }, { ...opts, eosTokenId: null });
        // the first run may fill the model's memo (LLaMA's shared rotary table): count from the second
        run();
        const before = tf.memory().numTensors;
        run();
        assert.equal(tf.memory().numTensors, before, `${name} ${JSON.stringify(opts)} ${peft ? 'with a method' : ''}`);
      }
    }
    // an error in the middle (here from the observer) disposes the cache too
    const before = tf.memory().numTensors;
    assert.throws(() => generate(model, contextOf(prefix), { inputIds }, {
      maxNewTokens: 6, eosTokenId: null, onStep: (s) => {
        if (s === 2) throw new Error('stop');
      },
    }), /stop/);
    assert.equal(tf.memory().numTensors, before, `${name}: after an error`);
  }
});
