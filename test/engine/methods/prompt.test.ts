import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { PromptEmbedding, textTokenIds, wordEmbedding } from '../../../src/engine/methods/prompt.js';
import { PeftError } from '../../../src/errors.js';
import { llama, plan, logits, maxDiff } from './helpers.js';

function promptRows(peft: ReturnType<typeof injectMethod>): number[][] {
  const m = peft.store.namedModules().find(([, x]) => x instanceof PromptEmbedding)![1] as PromptEmbedding;
  return tf.tidy(() => m.embedding.value.arraySync() as number[][]);
}

test('text init repeats the tokens of init_text up to the length (peft\'s TEXT)', () => {
  assert.deepEqual(textTokenIds([5, 7], 5), [5, 7, 5, 7, 5]);
  assert.deepEqual(textTokenIds([1, 2, 3, 4], 3), [1, 2, 3]);
  assert.deepEqual(textTokenIds([], 3), []);
});

test('prompt init vocab copies seeded rows of the word embedding; text copies the text\'s tokens', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const table = wordEmbedding(model)!.value.arraySync() as number[][];
  const rows = promptRows(injectMethod(model, plan({ function: 'prompt', length: 4, init: 'vocab' }), 7));
  for (const r of rows) assert.ok(table.some((t) => t.every((v, i) => v === r[i])), 'each prompt vector is a vocabulary row');
  assert.deepEqual(rows, promptRows(injectMethod(model, plan({ function: 'prompt', length: 4, init: 'vocab' }), 7)), 'seeded');

  const text = injectMethod(model, plan({ function: 'prompt', length: 5, init: 'text', init_text: 'hi there' }), 0, { tokenize: () => [5, 7] });
  assert.deepEqual(promptRows(text), [5, 7, 5, 7, 5].map((i) => table[i]));
  assert.throws(() => injectMethod(model, plan({ function: 'prompt', length: 5, init: 'text', init_text: 'hi' }), 0),
    (e: unknown) => e instanceof PeftError && /tokenizer/.test(e.message));
  // shapes only (inspect): nothing is read, nothing needs a tokenizer
  const shapes = injectMethod(model, plan({ function: 'prompt', length: 5, init: 'text', init_text: 'hi' }), 0, { shapesOnly: true });
  assert.equal(shapes.store.namedParams()[0][1].loaded, false);
});

test('prompt at embeddings and at embeddings.output both prepend (the same on LLaMA, whose embedding is the lookup alone)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const a = injectMethod(model, plan({ function: 'prompt', length: 3, init: 'random' }), 0);
  const b = injectMethod(model, plan({ function: 'prompt', length: 3, init: 'random', position: 'embeddings.output' }), 0);
  const mb = b.store.namedModules().find(([, x]) => x instanceof PromptEmbedding)![1] as PromptEmbedding;
  const ma = a.store.namedModules().find(([, x]) => x instanceof PromptEmbedding)![1] as PromptEmbedding;
  mb.embedding.set(tf.clone(ma.embedding.value));
  const la = logits(model, a);
  assert.deepEqual(la.shape, [2, 11, 100]);
  assert.ok(maxDiff(la, logits(model, b)) < 1e-6);
  // the prompt changes what the real tokens see
  assert.ok(maxDiff(tf.slice(la, [0, 3, 0], [2, 8, 100]), logits(model, null)) > 1e-3);
});
