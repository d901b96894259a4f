// Merging folds mergeable modules into the weights: Python peft's merge_and_unload for LoRA
// (merged.safetensors and its logits), IA³, DoRA and LoHa keep the logits; others are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, type TaskModel } from '../../../src/engine/backbones/index.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { mergeIntoBackbone } from '../../../src/engine/merge/fold.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { PeftError } from '../../../src/errors.js';
import type { ModelInputs } from '../../../src/engine/backbones/types.js';
import { plan } from '../methods/helpers.js';

function inputs(name: string): ModelInputs {
  const raw = readJson(fixture('models', name, 'inputs.json'));
  return {
    inputIds: toTensor(raw.input_ids, 'int32') as tf.Tensor2D,
    attentionMask: toTensor(raw.attention_mask, 'int32') as tf.Tensor2D,
    tokenTypeIds: raw.token_type_ids ? (toTensor(raw.token_type_ids, 'int32') as tf.Tensor2D) : undefined,
  };
}

const TASK = { llama: 'causal-lm', gpt2: 'causal-lm', bert: 'seq-cls' } as const;

for (const name of ['llama', 'gpt2', 'bert'] as const) {
  test(`${name}-lora merged equals Python peft's merge_and_unload (weights and logits)`, { skip: SKIP_NO_SHARED }, async () => {
    await useBackend();
    const { model } = loadBackbone(fixture('models', name), { task: TASK[name], numLabels: 3 });
    const { peft } = loadAdapter(fixture('peft', `${name}-lora`), model);
    mergeIntoBackbone(peft);
    const ref = openSafetensors(fixture('peft', `${name}-lora`, 'merged.safetensors'));
    const params = new Map(model.root.namedParams());
    for (const n of ref.names()) {
      const p = params.get(n);
      if (!p) continue; // tied or buffer names
      assertClose(p.value, Array.from(ref.read(n)), n, 0, 2e-6);
    }
    const out = model.forward(inputs(name), ForwardContext.plain(false));
    assertClose(out.logits, readJson(fixture('peft', `${name}-lora`, 'merged_outputs.json')).logits, 'merged logits');
  });
}

async function mergedKeepsLogits(model: TaskModel, method: Record<string, unknown>, name = 'llama'): Promise<void> {
  const peft = injectMethod(model, plan(method), 3);
  // give the freshly initialised (often identity) modules visible values
  for (const [n, p] of peft.store.namedParams()) p.set(tf.add(p.value, tf.randomNormal([...p.shape], 0, 0.2, 'float32', n.length)));
  const before = model.forward(inputs(name), peft.context({ training: false })).logits;
  mergeIntoBackbone(peft);
  const after = model.forward(inputs(name), ForwardContext.plain(false)).logits;
  assertClose(after, { shape: before.shape, data: Array.from(before.dataSync()) }, 'logits after merging');
}

test('IA³ (output and FFN-input scaling), DoRA, LoHa, AdaLoRA and bias merge without changing the logits', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const fresh = () => loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' }).model;
  await mergedKeepsLogits(fresh(), { preset: 'ia3' });
  await mergedKeepsLogits(fresh(), { preset: 'dora', rank: 4 });
  await mergedKeepsLogits(fresh(), { preset: 'loha', rank: 4 });
  await mergedKeepsLogits(fresh(), { preset: 'adalora', rank: 4, target_rank: 2 });
  await mergedKeepsLogits(fresh(), { preset: 'lora', position: ['attn.out_proj', 'ffn.gate_proj', 'ffn.down_proj'], rank: 2 });
  const gpt2 = loadBackbone(fixture('models', 'gpt2'), { task: 'causal-lm' }).model;
  await mergedKeepsLogits(gpt2, { preset: 'bitfit' }, 'gpt2');
  // on GPT-2 query/value are slices of the fused c_attn: they fold into its columns
  await mergedKeepsLogits(loadBackbone(fixture('models', 'gpt2'), { task: 'causal-lm' }).model, { preset: 'lora', rank: 2 }, 'gpt2');
  await mergedKeepsLogits(loadBackbone(fixture('models', 'gpt2'), { task: 'causal-lm' }).model, { preset: 'ia3' }, 'gpt2');
});

test('a bottleneck adapter, a prefix or a gate is refused with its reason, and nothing changes', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(fixture('models', 'llama'), { task: 'causal-lm' });
  const before = new Map(model.root.namedParams().map(([n, p]) => [n, Float32Array.from(p.value.dataSync())]));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ preset: 'parallel-adapter', bottleneck: 4 }, /cannot be merged: its Δh passes through a nonlinearity/],
    [{ preset: 'prefix', length: 2, reparam: null }, /cannot be merged/],
    [{ modules: { a: { preset: 'lora', rank: 2 }, b: { preset: 'adapter-houlsby', bottleneck: 2 } } }, /b \(bottleneck at self_attn\.output\) cannot be merged/],
    [{ function: 'lowrank', position: 'attn.query', composition: 'gated', rank: 2 }, /a gate depends on the input/],
    [{ preset: 'bitfit' }, /has no bias in this architecture/],
  ];
  for (const [method, message] of cases) {
    const peft = injectMethod(model, plan(method), 0);
    assert.throws(() => mergeIntoBackbone(peft), (e: unknown) => e instanceof PeftError && message.test(e.message), JSON.stringify(method));
  }
  for (const [n, p] of model.root.namedParams()) assert.deepEqual(p.value.dataSync(), before.get(n), `${n} unchanged`);
});
