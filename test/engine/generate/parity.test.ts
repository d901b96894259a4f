// Generation with the KV cache equals generation that recomputes every position each step
// (token for token, and every step's logits to 1e-4): on every generating family, on batches
// with left padding, with beams reordering the cache, and with PEFT modules attached (LoRA,
// prefix tuning, prompt tuning, adapters), whose computations the cache must not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, readJson, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import type { GenerateInputs } from '../../../src/engine/generate/index.js';
import { checkCacheParity, contextOf, fixtureModel, withMethod, stories } from './helpers.js';

/** The fixture's two rows (row 1: 5 real tokens, right-padded in the file; generation left-pads them). */
function fixturePrompts(name: string): GenerateInputs {
  const inp = readJson(fixture('models', name), 'inputs.json');
  const rows = (t: { shape: number[]; data: number[] }) => Array.from({ length: t.shape[0] }, (_, i) => t.data.slice(i * t.shape[1], (i + 1) * t.shape[1]));
  return { inputIds: rows(inp.input_ids), attentionMask: rows(inp.attention_mask) };
}

const NO_EOS = { eosTokenId: null } as const;

for (const name of ['gpt2', 'llama', 'bart', 'mbart', 't5']) {
  test(`${name}: cached greedy and beam search = full recomputation (left-padded batch, every step's logits to 1e-4)`, { skip: SKIP_NO_SHARED }, async (t) => {
    await useBackend();
    const model = fixtureModel(name);
    const inputs = fixturePrompts(name);
    const g = checkCacheParity(model, contextOf(null), inputs, { maxNewTokens: 12, ...NO_EOS }, `${name} greedy`);
    assert.equal(g.cached.sequences.length, 2);
    assert.ok(g.cached.sequences.every((s) => s.length === 12));
    // one row, no padding: positions continue from the cache's length
    checkCacheParity(model, contextOf(null), { inputIds: [inputs.inputIds[0]] }, { maxNewTokens: 12, ...NO_EOS }, `${name} one row`);
    const b = checkCacheParity(model, contextOf(null), inputs, { strategy: 'beam', numBeams: 3, maxNewTokens: 8, numReturnSequences: 2 }, `${name} beam`);
    assert.equal(b.cached.sequences.length, 4);
    t.diagnostic(`largest logit difference: greedy ${g.worst.toExponential(2)}, beam ${b.worst.toExponential(2)}`);
  });
}

const METHODS: [string, string[], Record<string, unknown>][] = [
  ['LoRA on q, v', ['gpt2', 'llama', 'bart', 't5'], { preset: 'lora', rank: 4 }],
  ['prefix tuning (gated, every attention)', ['gpt2', 'llama', 'bart', 'mbart', 't5'], { function: 'prefix', length: 3 }],
  ['prefix tuning (ungated, shifted positions)', ['llama', 'gpt2'], { function: 'prefix', length: 3, composition: 'add', shift_positions: true }],
  ['prompt tuning', ['gpt2', 'llama', 'bart', 't5'], { function: 'prompt', length: 4 }],
  ['prompt tuning after the embedding module', ['llama'], { function: 'prompt', length: 2, position: 'embeddings.output' }],
  ['MAM (prefix + scaled parallel adapter)', ['llama', 'bart'], { preset: 'mam' }],
  ['IA³', ['gpt2', 't5'], { preset: 'ia3' }],
];

for (const [what, families, method] of METHODS) {
  test(`${what}: cached = uncached generation with the modules attached`, { skip: SKIP_NO_SHARED }, async (t) => {
    await useBackend();
    for (const name of families) {
      const model = fixtureModel(name);
      const peft = withMethod(model, method);
      const plain = checkCacheParity(model, contextOf(null), fixturePrompts(name), { maxNewTokens: 6, ...NO_EOS }, `${name} plain`);
      const r = checkCacheParity(model, contextOf(peft), fixturePrompts(name), { maxNewTokens: 6, ...NO_EOS }, `${name} ${what}`);
      checkCacheParity(model, contextOf(peft), { inputIds: [fixturePrompts(name).inputIds[0]] }, { maxNewTokens: 6, ...NO_EOS }, `${name} ${what} one row`);
      assert.notDeepEqual(r.cached.steps, plain.cached.steps, `${name}: the modules change the logits`);
      checkCacheParity(model, contextOf(peft), fixturePrompts(name), { strategy: 'beam', numBeams: 2, maxNewTokens: 5 }, `${name} ${what} beam`);
      t.diagnostic(`${name}: largest logit difference ${r.worst.toExponential(2)}`);
    }
  });
}

for (const dir of ['llama-lora', 'llama-prefix_tuning', 'llama-prompt_tuning', 'gpt2-lora', 'gpt2-prefix_tuning']) {
  test(`Python peft adapter ${dir}: cached = uncached generation`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const model = fixtureModel(dir.split('-')[0]);
    const { peft } = loadAdapter(fixture('peft', dir), model);
    const r = checkCacheParity(model, contextOf(peft), fixturePrompts(model.family), { maxNewTokens: 8, ...NO_EOS }, dir);
    const plain = checkCacheParity(model, contextOf(null), fixturePrompts(model.family), { maxNewTokens: 8, ...NO_EOS }, `${dir} without`);
    assert.notDeepEqual(r.cached.steps[0], plain.cached.steps[0], 'the adapter changes the logits');
  });
}

test('stories260K: cached = uncached greedy for 32 steps from BOS, with and without LoRA', async () => {
  await useBackend();
  const model = stories();
  checkCacheParity(model, contextOf(null), { inputIds: [[1]] }, { maxNewTokens: 32, eosTokenId: 2 }, 'stories260K');
  const lora = withMethod(model, { preset: 'lora', rank: 4, position: ['attn.query', 'attn.value', 'ffn.output'] }, 5);
  checkCacheParity(model, contextOf(lora), { inputIds: [[1], [1, 403, 407, 261]] }, { maxNewTokens: 24, ...NO_EOS }, 'stories260K LoRA');
});
