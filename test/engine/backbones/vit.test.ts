import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, type ModelInputs } from '../../../src/engine/backbones/index.js';
import { patchify } from '../../../src/engine/backbones/vit.js';
import { ForwardContext, type Attachment } from '../../../src/engine/nn/context.js';
import { ensureGradients } from '../../../src/engine/backend/index.js';

const dir = fixture('models', 'vit');

function vitInputs(): ModelInputs {
  return { pixelValues: toTensor(readJson(dir, 'inputs.json').pixel_values) as tf.Tensor4D };
}

function checkParity(): void {
  const outputs = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task: 'image-cls' });
  assert.deepEqual(report.unused, []);
  assert.deepEqual(report.initialized, []);
  const out = model.forward(vitInputs(), ForwardContext.plain(false), { hiddenStates: true });
  assertClose(out.logits, outputs.logits, 'logits');
  assertClose(out.lastHidden, outputs.last_hidden_state, 'last_hidden_state');
  assert.equal(out.hiddenStates!.length, outputs.hidden_states.length);
  out.hiddenStates!.forEach((h, i) => assertClose(h, outputs.hidden_states[i], `hidden_states[${i}]`));
}

test('ViT matches transformers: logits, last hidden state (after the final LayerNorm), every hidden state', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  checkParity();
});

test('patchify equals the stride-p convolution it replaces', async () => {
  await useBackend();
  const [B, C, H, p, D] = [2, 3, 8, 4, 5];
  const pixels = tf.randomNormal([B, C, H, H], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([D, C, p, p], 0, 1, 'float32', 2);
  const viaMatmul = tf.matMul(tf.reshape(patchify(pixels, p), [-1, C * p * p]) as tf.Tensor2D, tf.reshape(w, [D, C * p * p]) as tf.Tensor2D, false, true);
  // conv2d in NHWC with the filter as [p, p, C, D], output [B, H/p, W/p, D] → patches row-major
  const conv = tf.conv2d(tf.transpose(pixels, [0, 2, 3, 1]) as tf.Tensor4D, tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D, p, 'valid');
  assertClose(viaMatmul, Array.from(tf.reshape(conv, [-1, D]).dataSync()), 'patch projection');
});

test('ViT sites: no token embeddings (only embeddings.output), pre-LN layer positions, HF linear paths', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'image-cls' });
  assert.equal(model.architecture, 'ViTForImageClassification');
  assert.deepEqual(model.sites.filter((s) => s.layer < 0).map((s) => [s.path, s.position]), [['vit.embeddings.output', 'embeddings.output']]);
  assert.deepEqual(model.sites.filter((s) => s.kind === 'linear' && s.layer === 1).map((s) => s.path), [
    'vit.encoder.layer.1.attention.attention.query', 'vit.encoder.layer.1.attention.attention.key', 'vit.encoder.layer.1.attention.attention.value',
    'vit.encoder.layer.1.attention.output.dense', 'vit.encoder.layer.1.intermediate.dense', 'vit.encoder.layer.1.output.dense',
  ]);
  const positions = new Set(model.sites.map((s) => s.position));
  for (const p of ['self_attn.heads', 'self_attn.output', 'ffn.input', 'ffn.intermediate', 'ffn.output', 'block.output']) assert.ok(positions.has(p), p);
  assert.throws(() => buildBackbone(dir, { task: 'seq-cls' }), /not supported on vit/);
});

test('ViT `embeddings.output`: prepended vectors extend the sequence; wrong image sizes are a typed error', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'image-cls' });
  const ctx = new ForwardContext(new Map<string, Attachment[]>([['vit.embeddings.output', [{ prepend: (B) => tf.zeros([B, 2, 32]) as tf.Tensor3D }]]]), { training: false });
  const out = model.forward(vitInputs(), ctx);
  assert.deepEqual(out.lastHidden.shape, [2, 19, 32]);
  assert.throws(() => model.forward({ pixelValues: tf.zeros([1, 3, 8, 8]) as tf.Tensor4D }, ForwardContext.plain(false)), /expected images \[3, 16, 16\]/);
});

/** Gradients of a loss on the logits w.r.t. the patch projection, CLS token and classifier. */
function headGrads(): Float32Array[] {
  const { model } = loadBackbone(dir, { task: 'image-cls' });
  const params = model.root.namedParams().filter(([n]) => ['vit.embeddings.patch_embeddings.projection.weight', 'vit.embeddings.cls_token', 'classifier.weight'].includes(n));
  for (const [, p] of params) p.makeTrainable();
  const inputs = vitInputs();
  const { grads } = tf.variableGrads(() => {
    const logits = model.forward(inputs, ForwardContext.plain(false)).logits;
    return tf.sum(tf.mul(logits, tf.tensor2d([[1, -2, 0.5], [0.3, 1, -1]])));
  }, params.map(([, p]) => p.variable));
  return params.map(([, p]) => grads[p.variable.name].dataSync() as Float32Array);
}

test('ViT on the wasm backend: same outputs, and the patch projection trains (same gradients as cpu)', { skip: SKIP_NO_SHARED }, async (t) => {
  await ensureGradients();
  await useBackend('cpu');
  const cpu = headGrads();
  try {
    await useBackend('wasm');
  } catch (e) {
    t.skip(`wasm backend does not load: ${(e as Error).message}`);
    return;
  }
  try {
    assert.equal(tf.getBackend(), 'wasm');
    checkParity();
    const wasm = headGrads();
    cpu.forEach((g, i) => {
      assert.ok(g.some((v) => v !== 0), `gradient ${i} is not zero`);
      assertClose(wasm[i], Array.from(g), `gradient ${i}`, 1e-3, 1e-5);
    });
  } finally {
    await useBackend('cpu');
  }
});
