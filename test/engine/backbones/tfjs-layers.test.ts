// A TensorFlow.js layers-model as a backbone (../shared/models/mobilenetv2-nsfwjs: MobileNetV2,
// uint8-quantized): the dequantized weights and the Keras graph give what tfjs itself computes
// (test/fixtures/reference/tfjs-layers); its sites (1×1, depthwise and k×k convolutions, hidden
// dense layers, residual adds) and layer numbers; a new head for another label set; another
// input resolution; and PEFT on its 1×1 convolutions and dense layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, SHARED, readJson, assertClose, useBackend } from '../../helpers/fixtures.js';
import { loadBackbone, buildBackbone, countParams } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';
import { injectMethod, selectTrainable } from '../../../src/engine/methods/index.js';
import { layersModelConfig } from '../../../src/plan/index.js';
import { plan, randomize, maxDiff } from '../methods/helpers.js';

const dir = join(SHARED, 'models', 'mobilenetv2-nsfwjs');
const skip = existsSync(join(dir, 'model.json')) ? false : 'needs ../shared/models/mobilenetv2-nsfwjs';
const ref = readJson(REPO, 'test', 'fixtures', 'reference', 'tfjs-layers', 'mobilenetv2.json');

/** The reference input as the pipeline gives it: pixel_values [B, C, H, W]. */
function refPixels(size = 224): tf.Tensor4D {
  const x = new Float32Array(2 * size * size * 3);
  for (let b = 0; b < 2; b++) for (let h = 0; h < size; h++) for (let w = 0; w < size; w++) for (let c = 0; c < 3; c++) {
    x[((b * size + h) * size + w) * 3 + c] = 0.5 + 0.5 * Math.sin(0.05 * h * (c + 1) + 0.07 * w + 1.3 * b);
  }
  return tf.transpose(tf.tensor4d(x, [2, size, size, 3]), [0, 3, 1, 2]) as tf.Tensor4D;
}

test('MobileNetV2 layers-model: dequantized weights through the Keras graph give tfjs\'s own outputs', { skip }, async () => {
  await useBackend(process.env.PEFT_TEST_BACKEND ?? 'wasm');
  const { model, report } = loadBackbone(dir, { task: 'image-cls', numLabels: 5 });
  assert.deepEqual(report.unused, []);
  assert.deepEqual(report.initialized, []);
  const stats = model.root.namedBuffers().reduce((n, [, b]) => n + b.size, 0);
  assert.equal(countParams(model) + stats, ref.count_params, 'every weight of the manifest (moving statistics are buffers here)');
  const out = model.forward({ pixelValues: refPixels() }, ForwardContext.plain(false));
  assertClose(out.pooled!, ref.features, 'dense_2 features (what the head reads)');
  assertClose(tf.softmax(out.logits), ref.probs, 'softmax of the head = the model output');
  assertClose(tf.reshape(tf.mean(out.featureMap!, [1, 2]), [2, 1280]), ref.pooled, 'the global pool of out_relu');
});

test('layers-model config: model_type, input geometry, pixel range, weight layers', { skip }, () => {
  const read = layersModelConfig(dir);
  assert.ok('config' in read);
  const c = read.config;
  assert.equal(c.model_type, 'tfjs-layers');
  assert.equal(c.image_size, 224);
  assert.equal(c.num_channels, 3);
  assert.deepEqual([c.image_mean, c.image_std], [0, 1]);
  assert.equal(c.num_hidden_layers, 35 + 17 + 3);
});

test('layers-model sites: convolutions by kind at their layer names, hidden dense layers, residual adds; the output Dense is the head', { skip }, () => {
  const { model } = buildBackbone(dir, { task: 'image-cls', numLabels: 10 });
  const count = (p: string) => model.sites.filter((s) => s.position === p).length;
  assert.equal(count('conv.pointwise'), 34);
  assert.equal(count('conv.depthwise'), 17);
  assert.equal(count('conv.spatial'), 1);
  assert.deepEqual(model.sites.filter((s) => s.position === 'dense').map((s) => [s.path, s.inDim, s.outDim]), [['dense_1', 1280, 256], ['dense_2', 256, 128]]);
  assert.equal(count('block.output'), 10);
  assert.deepEqual(model.headPrefixes, ['dense_3']);
  const first = model.sites.find((s) => s.path === 'Conv1')!;
  assert.deepEqual([first.layer, first.stride, first.conv!.kernel], [0, 2, [3, 3]]);
  assert.equal(model.layerOf!('block_16_project_BN.gamma'), model.sites.find((s) => s.path === 'block_16_project')!.layer);
  assert.deepEqual(model.root.namedParams().filter(([n]) => n.startsWith('dense_3')).map(([n, p]) => [n, p.shape]), [['dense_3.kernel', [128, 10]], ['dense_3.bias', [10]]]);
});

test('a new head for 10 labels is initialised from the seed; another input resolution runs (the final pool covers the whole map)', { skip }, async () => {
  await useBackend(process.env.PEFT_TEST_BACKEND ?? 'wasm');
  const { model, report } = loadBackbone(dir, { task: 'image-cls', numLabels: 10, imageSize: 96, seed: 3 });
  assert.deepEqual(report.initialized, ['dense_3.kernel', 'dense_3.bias']);
  assert.equal(model.config.image_size, 96);
  const out = model.forward({ pixelValues: refPixels(96) }, ForwardContext.plain(false));
  assert.deepEqual(out.logits.shape, [2, 10]);
  assert.deepEqual(out.featureMap!.shape, [2, 1, 1, 1280]);
  assert.throws(() => model.forward({ pixelValues: refPixels(64) }, ForwardContext.plain(false)), /expected images \[3, 96, 96\]/);
});

test('LoRA on the 1×1 convolutions of the last blocks and the dense layers; the body stays frozen, the new head trains', { skip }, async () => {
  await useBackend(process.env.PEFT_TEST_BACKEND ?? 'wasm');
  const { model } = loadBackbone(dir, { task: 'image-cls', numLabels: 3, imageSize: 64 });
  const method = plan({ function: 'lowrank', position: ['conv.pointwise', 'dense'], rank: 4, alpha: 8, layers: { top: 8 } }, 'image-cls');
  const peft = injectMethod(model, method, 0);
  assert.deepEqual([...new Set(peft.modules[0].sites.map((s) => s.path))], ['block_15_project', 'block_16_expand', 'block_16_project', 'Conv_1', 'dense_1', 'dense_2']);
  const shapes = new Map(peft.store.namedParams().map(([n, p]) => [n, p.shape]));
  assert.deepEqual(shapes.get('Conv_1.lowrank.lora_A'), [4, 320, 1, 1]);
  assert.deepEqual(shapes.get('dense_1.lowrank.lora_A'), [4, 1280]);
  const trainable = selectTrainable(peft);
  assert.deepEqual([...trainable.params.keys()].filter((n) => !n.includes('lowrank')), ['dense_3.kernel', 'dense_3.bias']);
  const before = model.forward({ pixelValues: refPixels(64) }, peft.context({ training: false })).logits;
  randomize(peft);
  assert.ok(maxDiff(model.forward({ pixelValues: refPixels(64) }, peft.context({ training: false })).logits, before) > 1e-4);
});

test('merged, a layers-model is written back as a layers-model (float32, the head\'s units updated) that loads to the same logits', { skip }, async () => {
  await useBackend(process.env.PEFT_TEST_BACKEND ?? 'wasm');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { mergeIntoBackbone } = await import('../../../src/engine/merge/fold.js');
  const { writeLayersModelDir } = await import('../../../src/engine/io/tfjs-write.js');
  const { model } = loadBackbone(dir, { task: 'image-cls', numLabels: 4, imageSize: 32, seed: 1 });
  const peft = injectMethod(model, plan({ function: 'lowrank', position: ['conv.pointwise', 'dense'], rank: 2, layers: { top: 4 } }, 'image-cls'), 0);
  randomize(peft, 2, 0.05);
  const unmerged = model.forward({ pixelValues: refPixels(32) }, peft.context({ training: false })).logits;
  mergeIntoBackbone(peft);
  const out = mkdtempSync(join(tmpdir(), 'peft-merged-tfjs-'));
  assert.deepEqual(writeLayersModelDir(model, dir, out), ['model.json', 'group1-shard1of1.bin']);
  const back = loadBackbone(out, { task: 'image-cls', numLabels: 4, imageSize: 32 });
  assert.deepEqual(back.report.initialized, [], 'the head of 4 labels is in the file');
  assert.ok(maxDiff(back.model.forward({ pixelValues: refPixels(32) }, ForwardContext.plain(false)).logits, unmerged) < 1e-4);
});
