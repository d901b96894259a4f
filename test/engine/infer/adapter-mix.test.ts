// Several adapters at inference, combined on the fly: sum adds each adapter's change (for LoRA,
// W + Σ w·ΔW), stack composes them in order (the first lowest) as one method with both modules
// at the same sites would; prefixes take weight 1 only; two weight replacers do not stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { injectMethod } from '../../../src/engine/methods/index.js';
import { mixAdapters } from '../../../src/engine/infer/adapter-mix.js';
import type { PeftModel } from '../../../src/engine/methods/inject.js';
import { llama, logits, maxDiff, plan, randomize } from '../methods/helpers.js';

/** Copies every parameter of `from` (module `name`) into `to`'s module `as`. */
function copyInto(from: PeftModel, name: string, to: PeftModel, as: string): void {
  const target = new Map(to.store.namedParams());
  for (const [n, p] of from.store.namedParams()) {
    const m = n.replace(`.${name}.`, `.${as}.`);
    target.get(m)!.set(tf.clone(p.value));
  }
}

test('stack composes sequential adapters in order, as one method with both modules; sum differs', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const lang = injectMethod(model, plan({ preset: 'adapter-houlsby', bottleneck: 4 }), 0);
  const task = injectMethod(model, plan({ preset: 'adapter-houlsby', bottleneck: 4 }), 1);
  randomize(lang, 1, 0.3);
  randomize(task, 2, 0.3);
  const both = injectMethod(model, plan({ modules: { lang: { preset: 'adapter-houlsby', bottleneck: 4 }, task: { preset: 'adapter-houlsby', bottleneck: 4 } } }), 0);
  const moduleName = lang.method.modules[0].name;
  copyInto(lang, moduleName, both, 'lang');
  copyInto(task, moduleName, both, 'task');
  const stacked = mixAdapters([{ peft: lang, weight: 1, label: 'lang' }, { peft: task, weight: 1, label: 'task' }], 'stack');
  const want = logits(model, both);
  assert.ok(maxDiff(logits(model, stacked), want) < 1e-5, 'stack = both modules in one method');
  const summed = mixAdapters([{ peft: lang, weight: 1, label: 'lang' }, { peft: task, weight: 1, label: 'task' }], 'sum');
  assert.ok(maxDiff(logits(model, summed), want) > 1e-3, 'sum of sequential adapters is not their stack');
  // order matters in a stack
  const reversed = mixAdapters([{ peft: task, weight: 1, label: 'task' }, { peft: lang, weight: 1, label: 'lang' }], 'stack');
  assert.ok(maxDiff(logits(model, reversed), want) > 1e-3);
});

test('sum of LoRA adapters with weights is W + Σ w·ΔW: one adapter at w equals it with B × w', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const a = injectMethod(model, plan({ preset: 'lora', rank: 2 }), 0);
  const b = injectMethod(model, plan({ preset: 'lora', rank: 3, position: ['attn.query', 'ffn.down_proj'] }), 1);
  randomize(a, 3);
  randomize(b, 4);
  const mixed = logits(model, mixAdapters([{ peft: a, weight: 0.7, label: 'a' }, { peft: b, weight: -0.5, label: 'b' }], 'sum'));
  for (const [p, w] of [[a, 0.7], [b, -0.5]] as const) {
    for (const [n, q] of p.store.namedParams()) if (n.endsWith('lora_B')) q.set(tf.mul(q.value, w));
  }
  const both = mixAdapters([{ peft: a, weight: 1, label: 'a' }, { peft: b, weight: 1, label: 'b' }], 'sum');
  assert.ok(maxDiff(mixed, logits(model, both)) < 1e-5);
  // stack = sum for parallel (LoRA) modules
  const stacked = mixAdapters([{ peft: a, weight: 1, label: 'a' }, { peft: b, weight: 1, label: 'b' }], 'stack');
  assert.ok(maxDiff(logits(model, stacked), logits(model, both)) < 1e-5);
});

test('weight replacers (DoRA) sum but do not stack; prefixes take weight 1 only', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const d1 = injectMethod(model, plan({ preset: 'dora', rank: 2 }), 0);
  const d2 = injectMethod(model, plan({ preset: 'dora', rank: 2 }), 1);
  randomize(d1, 5);
  randomize(d2, 6);
  assert.throws(() => mixAdapters([{ peft: d1, weight: 1, label: 'd1' }, { peft: d2, weight: 1, label: 'd2' }], 'stack'), /both replace the computation of .* cannot be stacked/);
  // sum: each DoRA's change from the base output, added; the pair at weights (1, 0) is d1 alone
  const half = mixAdapters([{ peft: d1, weight: 1, label: 'd1' }, { peft: d2, weight: 0, label: 'd2' }], 'sum');
  assert.ok(maxDiff(logits(model, half), logits(model, d1)) < 1e-5);
  const prefix = injectMethod(model, plan({ preset: 'prefix', length: 3 }), 2);
  assert.throws(() => mixAdapters([{ peft: prefix, weight: 0.5, label: 'p' }, { peft: d1, weight: 1, label: 'd1' }], 'sum'), /combine with weight 1 only/);
  const ok = mixAdapters([{ peft: prefix, weight: 1, label: 'p' }, { peft: d1, weight: 1, label: 'd1' }], 'sum');
  assert.equal(logits(model, ok).shape[0], 2);
});
