// An inference forward pass frees each layer's intermediates when the layer ends
// (nn/layer-scope.ts): for stories260K (5 layers) under one tf.tidy, the most tensor memory held
// at once is a fraction of all the pass makes — one layer's worth and the activations between
// layers — where it used to be all of it (evaluation batches of 64 × 128 tokens held 185 MB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { REPO, useBackend } from '../../helpers/fixtures.js';
import { loadBackbone } from '../../../src/engine/backbones/index.js';
import { ForwardContext } from '../../../src/engine/nn/context.js';

await useBackend();
const { model } = loadBackbone(join(REPO, 'assets', 'models', 'stories260K'), { task: 'seq-cls', numLabels: 2 });
const [B, T] = [8, 64];
const ids = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => 3 + ((i * 7919) % 500)), [B, T], 'int32');
const mask = tf.ones([B, T], 'int32') as tf.Tensor2D;

/** The most tensor bytes held at once during f (tfjs's count after each kernel), and the bytes its kernels made (4 a number). */
async function held(f: () => void): Promise<{ peak: number; made: number }> {
  const base = tf.memory().numBytes;
  const { kernels } = await tf.profile(f);
  const peak = Math.max(...kernels.map((k) => k.totalBytesSnapshot)) - base;
  const made = kernels.reduce((s, k) => s + k.outputShapes.reduce((n: number, sh) => n + (sh ? sh.reduce((a, b) => a * b, 1) * 4 : 0), 0), 0);
  return { peak, made };
}

test('an inference forward holds one layer\'s intermediates at a time, not the whole pass\'s', async () => {
  const pass = () => tf.tidy(() => {
    model.forward({ inputIds: ids, attentionMask: mask }, ForwardContext.plain(false)).logits.dataSync();
  });
  pass(); // the first makes the rotary tables the model keeps
  const before = tf.memory().numTensors;
  const { peak, made } = await held(pass);
  assert.equal(tf.memory().numTensors, before, 'the pass leaves nothing behind');
  // 5 layers: one layer's share is a fifth of what the pass makes; the hidden states between layers and the head add a little
  assert.ok(peak < 0.4 * made, `held at most ${(peak / 2 ** 20).toFixed(1)} MB of the ${(made / 2 ** 20).toFixed(1)} MB the pass made`);
});

