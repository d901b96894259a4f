// ResNet against transformers (../shared/fixtures/models/resnet: basic blocks, a projection
// shortcut, randomised batch-norm statistics): logits and the last feature map on cpu, wasm and
// native; its sites (every convolution by kind and path, block outputs with their stride); and
// PEFT on its convolutions: a Conv2d LoRA as peft computes it, its merge, batch-norm tuning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fixture, readJson, toTensor, assertClose, useBackend, SKIP_NO_SHARED } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, type ModelInputs } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { ensureGradients, listBackends } from '../../../src/engine/backend/index.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { mergeIntoBackbone } from '../../../src/engine/merge/fold.js';
import { batchNorms } from '../../../src/engine/nn/batch-norm.js';
import { plan, randomize, maxDiff } from '../methods/helpers.js';

const dir = fixture('models', 'resnet');
const inputs = (): ModelInputs => ({ pixelValues: toTensor(readJson(dir, 'inputs.json').pixel_values) as tf.Tensor4D });

function checkParity(): void {
  const expected = readJson(dir, 'outputs.json');
  const { model, report } = loadBackbone(dir, { task: 'image-cls' });
  assert.equal(model.architecture, 'ResNetForImageClassification');
  assert.deepEqual(report.unused, [], 'every tensor used (num_batches_tracked is bookkeeping)');
  assert.deepEqual(report.initialized, []);
  const out = model.forward(inputs(), ForwardContext.plain(false));
  assertClose(out.logits, expected.logits, 'logits');
  // last_hidden_state is [B, C, H, W] in torch
  assertClose(tf.transpose(out.featureMap!, [0, 3, 1, 2]), expected.last_hidden_state, 'last_hidden_state');
}

for (const backend of ['cpu', 'wasm', 'native']) {
  test(`ResNet matches transformers on ${backend}: logits and the last feature map`, { skip: SKIP_NO_SHARED }, async (t) => {
    const status = (await listBackends()).find((s) => s.name === backend);
    if (!status?.available) return t.skip(`${backend} unavailable`);
    await useBackend(backend);
    checkParity();
  });
}

test('ResNet sites: each convolution by kind at its module path, block outputs numbered across stages', { skip: SKIP_NO_SHARED }, () => {
  const { model } = buildBackbone(dir, { task: 'image-cls' });
  const convs = model.sites.filter((s) => s.kind === 'conv');
  assert.deepEqual(convs.map((s) => [s.path, s.position, s.layer]), [
    ['resnet.embedder.embedder.convolution', 'conv.spatial', -1],
    ['resnet.encoder.stages.0.layers.0.layer.0.convolution', 'conv.spatial', 0],
    ['resnet.encoder.stages.0.layers.0.layer.1.convolution', 'conv.spatial', 0],
    ['resnet.encoder.stages.1.layers.0.shortcut.convolution', 'conv.pointwise', 1],
    ['resnet.encoder.stages.1.layers.0.layer.0.convolution', 'conv.spatial', 1],
    ['resnet.encoder.stages.1.layers.0.layer.1.convolution', 'conv.spatial', 1],
  ]);
  const blocks = model.sites.filter((s) => s.position === 'block.output');
  assert.deepEqual(blocks.map((s) => [s.path, s.inDim, s.outDim, s.stride ?? 1]), [
    ['resnet.encoder.stages.0.layers.0.output', 8, 8, 1],
    ['resnet.encoder.stages.1.layers.0.output', 8, 16, 2],
  ]);
  assert.equal(model.layerOf!('resnet.encoder.stages.1.layers.0.layer.1.normalization.weight'), 1);
});

test('lowrank at conv.spatial is peft\'s Conv2d LoRA: Δh = s·conv1×1(conv_k×k(x, A), B); merged kernel gives the same logits', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'image-cls' });
  const base = model.forward(inputs(), ForwardContext.plain(false)).logits;
  const peft = injectMethod(model, plan({ function: 'lowrank', position: 'conv.spatial', rank: 2, alpha: 4 }, 'image-cls'), 0);
  const shapes = Object.fromEntries(peft.store.namedParams().filter(([n]) => n.startsWith('resnet.encoder.stages.1.layers.0.layer.0.')).map(([n, p]) => [n.split('.').pop(), p.shape]));
  assert.deepEqual(shapes, { lora_A: [2, 8, 3, 3], lora_B: [16, 2, 1, 1] });
  assert.equal(maxDiff(model.forward(inputs(), peft.context({ training: false })).logits, base), 0, 'B = 0 at init: the identity');
  randomize(peft, 3, 0.3);
  const adapted = model.forward(inputs(), peft.context({ training: false })).logits;
  assert.ok(maxDiff(adapted, base) > 1e-3);
  // one site by hand: the stride-2 3×3 convolution of stage 1
  const site = 'resnet.encoder.stages.1.layers.0.layer.0.convolution';
  const p = new Map(peft.store.namedParams());
  const A = p.get(`${site}.lowrank.lora_A`)!.value;
  const B = p.get(`${site}.lowrank.lora_B`)!.value;
  const x = tf.randomNormal([1, 8, 8, 8], 0, 1, 'float32', 4);
  const conv = new Map(model.root.namedModules()).get(site) as import('../../../src/engine/nn/conv.js').Conv2d;
  const h = peft.context({ training: false }).site(site, x, (u) => conv.forward(u));
  const a = tf.conv2d(x as tf.Tensor4D, tf.transpose(A, [2, 3, 1, 0]) as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const want = tf.add(conv.forward(x), tf.mul(tf.conv2d(a, tf.transpose(B, [2, 3, 1, 0]) as tf.Tensor4D, 1, 'valid'), 2));
  assert.ok(maxDiff(h, want) < 1e-5, `${maxDiff(h, want)}`);
  const report = mergeIntoBackbone(peft);
  assert.equal(report.merged.length, 5);
  const merged = model.forward(inputs(), ForwardContext.plain(false)).logits;
  assert.ok(maxDiff(merged, adapted) < 1e-4, `merged vs unmerged ${maxDiff(merged, adapted)}`);
});

test('a parallel adapter cannot read x at a downsampling block; a sequential one can', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { model } = loadBackbone(dir, { task: 'image-cls' });
  assert.throws(() => injectMethod(model, plan({ function: 'bottleneck', position: 'block.output', bottleneck: 4, insertion: 'parallel' }, 'image-cls'), 0),
    /cannot read x at resnet\.encoder\.stages\.1\.layers\.0\.output: h is 2× coarser/);
  const peft = injectMethod(model, plan({ function: 'bottleneck', position: 'block.output', bottleneck: 4, insertion: 'sequential', init: 'lora' }, 'image-cls'), 0);
  randomize(peft);
  assert.deepEqual(model.forward(inputs(), peft.context({ training: false })).logits.shape, [2, 3]);
});

test('batch-norm tuning: unfreeze norms trains γ and β, the running statistics stay frozen; full fine-tuning moves them', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  await ensureGradients();
  const { model } = loadBackbone(dir, { task: 'image-cls' });
  const peft = injectMethod(model, plan({ unfreeze: ['norms'] }, 'image-cls'), 0);
  const trainable = selectTrainable(peft);
  const bnParams = [...trainable.params.keys()].filter((n) => n.includes('normalization'));
  assert.equal(bnParams.length, 2 * 6, 'weight and bias of the 6 batch norms');
  assert.ok([...trainable.params.keys()].every((n) => n.includes('normalization') || n.startsWith('classifier')));
  const bns = batchNorms(model.root);
  assert.ok(bns.every(([, bn]) => !bn.updates));
  const before = bns.map(([, bn]) => Array.from(bn.runningMean.value.dataSync()));
  tf.variableGrads(() => tf.sum(model.forward(inputs(), peft.context({ training: true })).logits) as tf.Scalar, [...trainable.params.values()].map((p) => p.variable));
  assert.deepEqual(bns.map(([, bn]) => Array.from(bn.runningMean.value.dataSync())), before, 'running statistics unchanged by a training pass');

  const full = loadBackbone(dir, { task: 'image-cls' }).model;
  const fullPeft = injectMethod(full, plan({ preset: 'full' }, 'image-cls'), 0);
  const all = selectTrainable(fullPeft);
  assert.ok(all.backboneNames.includes('resnet.embedder.embedder.normalization.running_mean'));
  const stem = batchNorms(full.root)[0][1];
  const m0 = Array.from(stem.runningMean.value.dataSync());
  full.forward(inputs(), fullPeft.context({ training: true }));
  const m1 = Array.from(stem.runningMean.value.dataSync());
  assert.ok(m0.some((v, i) => Math.abs(v - m1[i]) > 1e-6), 'a training pass moves the running mean (momentum 0.1)');
});

test('a Conv2d LoRA saves as Python peft\'s LORA type (lora_A [r, in, kh, kw], lora_B [out, r, 1, 1]) and loads back; FLoRA as UNIFIED_VIEW', { skip: SKIP_NO_SHARED }, async () => {
  await useBackend();
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { saveAdapter, loadAdapter } = await import('../../../src/engine/adapters/index.js');
  const { openSafetensors } = await import('../../../src/engine/io/safetensors.js');
  for (const [method, type] of [[{ preset: 'conv-lora', position: 'conv', rank: 2 }, 'LORA'], [{ preset: 'conv-flora', rank: 2 }, 'UNIFIED_VIEW']] as const) {
    const { model } = loadBackbone(dir, { task: 'image-cls' });
    const peft = injectMethod(model, plan(method, 'image-cls'), 0);
    randomize(peft, 5, 0.2);
    const want = model.forward(inputs(), peft.context({ training: false })).logits;
    const out = mkdtempSync(join(tmpdir(), 'peft-conv-adapter-'));
    assert.equal(saveAdapter(peft, out, { baseModel: dir }).type, type);
    if (type === 'LORA') {
      const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
      assert.deepEqual(cfg.target_modules, ['convolution']);
      const f = openSafetensors(join(out, 'adapter_model.safetensors'));
      assert.deepEqual(f.info('base_model.model.resnet.encoder.stages.1.layers.0.layer.0.convolution.lora_A.weight').shape, [2, 8, 3, 3]);
      assert.deepEqual(f.info('base_model.model.resnet.encoder.stages.1.layers.0.shortcut.convolution.lora_B.weight').shape, [16, 2, 1, 1]);
    }
    const fresh = loadBackbone(dir, { task: 'image-cls' }).model;
    const loaded = loadAdapter(out, fresh);
    assert.ok(maxDiff(fresh.forward(inputs(), loaded.peft.context({ training: false })).logits, want) < 1e-5, type);
  }
});
