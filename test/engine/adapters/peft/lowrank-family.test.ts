// Every preset of the low-rank family saves and loads back to the same logits on the fixture
// LLaMA, with what the papers store: the seed instead of regenerated tensors, LoLDU's diagonal
// without its LU factors, CorDA's initial pair, grown ranks; and adapter_model.safetensors has
// exactly the size `peft inspect` predicts. CorDA is written as Python peft's LORA of rank 2r (how
// peft converts a CorDA adapter for the original weights) and loads back as that LoRA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, useBackend, SKIP_NO_SHARED } from '../../../helpers/fixtures.js';
import { loadBackbone } from '../../../../src/engine/backbones/index.js';
import { loadAdapter } from '../../../../src/engine/adapters/peft/load.js';
import { saveAdapter, adapterSize } from '../../../../src/engine/adapters/peft/save.js';
import { injectMethod } from '../../../../src/engine/methods/inject.js';
import { openSafetensors } from '../../../../src/engine/io/safetensors.js';
import { plan, randomize, logits, maxDiff } from '../../methods/helpers.js';

const CASES: [string, Record<string, unknown>, RegExp | null][] = [
  ['vera (seed only)', { preset: 'vera', rank: 8, save_projection: false }, /vera_lambda_[bd]$/],
  ['nola', { preset: 'nola', rank: 4, num_basis: 6 }, /nola_(alpha|beta)$/],
  ['mos', { preset: 'mos', rank: 3, pool_rank: 2 }, /pool_[AB]$/],
  ['loldu', { preset: 'loldu', rank: 8 }, /(vector_z|scaling_factor)$/],
  ['flora', { preset: 'flora', rank: 4 }, /param_(G|0|1)$/],
  ['hydra', { preset: 'hydra', rank: 4, position: ['attn.query', 'attn.value'] }, /lora_[AB]$/],
  ['mola', { preset: 'mola', experts: [2, 3], rank: 2, position: ['attn.query'] }, /(router|lora_[AB])$/],
  ['increlora', { preset: 'increlora', rank: 1, target_rank: 2, position: ['attn.query', 'attn.value'] }, /(lora_[AEB]|rank_state)$/],
  ['triadaptlora', { preset: 'triadaptlora', rank: 2, target_rank: 4, position: ['attn.query'] }, /(lora_(A|B|C_row|C_col)|rank_state)$/],
  // written as peft converts CorDA for the original weights: a LoRA of rank 2r, [A; A0] and [B, −B0]
  ['corda', { preset: 'corda', rank: 4, position: ['attn.query'] }, /lora_[AB]\.weight$/],
  ['intrinsic-dim', { preset: 'intrinsic-dim', dimension: 30, position: ['attn.query', 'attn.value'] }, /subspace\.d$/],
];

for (const [name, words, stored] of CASES) {
  test(`${name}: saved and loaded back to the same logits; the file holds only what the method stores`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const { model } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
    const peft = injectMethod(model, plan(words), 0);
    randomize(peft, 6, 0.2);
    // grown ranks and CorDA's initial pair are part of what is saved
    for (const [n, b] of peft.store.namedBuffers()) {
      if (n.endsWith('rank_state')) b.set(tf.tensor(b.shape[0] === 2 ? [2, 1] : [4], [...b.shape]));
      if (/corda_[AB]0$/.test(n)) b.set(tf.mul(tf.onesLike(b.value), 0.05));
    }
    const before = logits(model, peft);
    const dir = mkdtempSync(join(tmpdir(), 'peft-lowrank-'));
    const saved = saveAdapter(peft, dir, { baseModel: 'models/llama' });
    const names = openSafetensors(saved.weights).names();
    if (name === 'corda') {
      assert.equal(saved.type, 'LORA');
      assert.deepEqual(openSafetensors(saved.weights).info('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight').shape, [8, 32]);
    }
    assert.ok(names.length > 0 && names.every((n) => stored!.test(n)), `${names.filter((n) => !stored!.test(n))}`);
    assert.equal(statSync(saved.weights).size, adapterSize(peft, { baseModel: 'models/llama' }).weights, 'the size inspect predicts');
    const { model: fresh } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
    const loaded = loadAdapter(dir, fresh);
    assert.deepEqual(loaded.warnings, []);
    assert.ok(maxDiff(logits(fresh, loaded.peft), before) < 1e-5, `${maxDiff(logits(fresh, loaded.peft), before)}`);
  });
}
