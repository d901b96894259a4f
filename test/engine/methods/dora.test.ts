import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, SKIP_NO_SHARED, readJson } from '../../helpers/fixtures.js';
import { ensureGradients } from '../../../src/engine/backend/gradients.js';
import { injectMethod } from '../../../src/engine/methods/inject.js';
import { DoraLinear } from '../../../src/engine/methods/dora.js';
import { Linear } from '../../../src/engine/nn/linear.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { saveAdapter } from '../../../src/engine/adapters/peft/save.js';
import { loadAdapter } from '../../../src/engine/adapters/peft/load.js';
import { openSafetensors, writeSafetensors } from '../../../src/engine/io/safetensors.js';
import { normalArray } from '../../../src/engine/random.js';
import { llama, plan, randomize, logits, maxDiff } from './helpers.js';

const [IN, OUT, R, S] = [6, 5, 2, 1.5];

function setup(): { base: Linear; m: DoraLinear; x: tf.Tensor } {
  const base = new Linear(IN, OUT);
  base.nameTree();
  base.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 0.5, i), [...p.shape])));
  const m = new DoraLinear(IN, OUT, R, S, 0);
  m.nameTree();
  m.namedParams().forEach(([, p], i) => p.set(tf.tensor(normalArray(p.size, 0.5, 20 + i), [...p.shape])));
  return { base, m, x: tf.tensor(normalArray(3 * IN, 1, 7), [3, IN]) };
}

/** m ⊙ (W + s·B·A)·x / ‖W + s·B·A‖_row + b, with the norm given (a constant). */
function reference(base: Linear, A: tf.Tensor, B: tf.Tensor, mag: tf.Tensor, x: tf.Tensor, norm: tf.Tensor): tf.Tensor {
  const w = tf.add(base.weight.value, tf.mul(tf.matMul(B as tf.Tensor2D, A as tf.Tensor2D), S));
  return tf.add(tf.mul(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), tf.div(mag, norm)), base.bias!.value);
}

test('DoRA starts as the identity (magnitude = ‖W‖ per output row, B = 0)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'dora', rank: 4 }), 0);
  assert.ok(maxDiff(logits(model, peft), logits(model, null)) < 1e-5);
  const m = peft.store.namedParams().find(([n]) => n === 'model.layers.0.self_attn.v_proj.lora.lora_magnitude_vector')![1];
  const w = model.root.namedParams().find(([n]) => n === 'model.layers.0.self_attn.v_proj.weight')![1].value;
  assert.ok(maxDiff(m.value, tf.norm(w, 'euclidean', 1)) < 1e-6);
});

test('DoRA: y = m ⊙ (W + s·B·A)·x / ‖W + s·B·A‖_row + b, the norm detached from the gradient', async () => {
  await useBackend();
  await ensureGradients();
  const { base, m, x } = setup();
  const ctx = new ForwardContext(new Map([['site', [m]]]), { training: false });
  const norm = tf.norm(tf.add(base.weight.value, tf.mul(tf.matMul(m.B.value as tf.Tensor2D, m.A.value as tf.Tensor2D), S)), 'euclidean', 1);
  assert.ok(maxDiff(ctx.linear('site', x, base), reference(base, m.A.value, m.B.value, m.magnitude.value, x, norm)) < 1e-5);
  // gradients as if the norm were a constant (DoRA §4.3)
  const params = [m.A, m.B, m.magnitude];
  const values = params.map((p) => tf.clone(p.value));
  params.forEach((p) => p.makeTrainable());
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.linear(x, base, ctx))), params.map((p) => p.variable));
  const want = tf.grads((a: tf.Tensor, b: tf.Tensor, mag: tf.Tensor) => tf.sum(tf.square(reference(base, a, b, mag, x, norm))))(values);
  params.forEach((p, i) => {
    const g = grads[p.variable.name];
    assert.ok(maxDiff(g, want[i]) < 1e-4, `gradient ${i}: ${maxDiff(g, want[i])}`);
  });
});

test('DoRA saves as peft LORA with use_dora and lora_magnitude_vector, and reloads (also from the pre-0.12 name)', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const model = llama();
  const peft = injectMethod(model, plan({ preset: 'dora', rank: 4, alpha: 8 }), 0);
  randomize(peft);
  const dir = mkdtempSync(join(tmpdir(), 'peft-dora-'));
  assert.equal(saveAdapter(peft, dir, { baseModel: 'models/llama' }).type, 'LORA');
  const cfg = readJson(dir, 'adapter_config.json');
  assert.equal(cfg.use_dora, true);
  const file = openSafetensors(join(dir, 'adapter_model.safetensors'));
  assert.deepEqual(file.info('base_model.model.model.layers.1.self_attn.v_proj.lora_magnitude_vector.weight').shape, [16]);
  const fresh = llama();
  const loaded = loadAdapter(dir, fresh);
  assert.deepEqual(loaded.warnings, []);
  assert.ok(maxDiff(logits(fresh, loaded.peft), logits(model, peft)) < 1e-6);

  // peft 0.9–0.11 saved the magnitude without `.weight`
  const old = mkdtempSync(join(tmpdir(), 'peft-dora-old-'));
  copyFileSync(join(dir, 'adapter_config.json'), join(old, 'adapter_config.json'));
  writeSafetensors(join(old, 'adapter_model.safetensors'), file.names().map((n) => ({
    name: n.replace(/lora_magnitude_vector\.weight$/, 'lora_magnitude_vector'), shape: file.info(n).shape, data: file.read(n),
  })));
  const again = loadAdapter(old, llama());
  assert.deepEqual(again.warnings, []);
  assert.ok(maxDiff(logits(again.peft.model, again.peft), logits(model, peft)) < 1e-6);
});
