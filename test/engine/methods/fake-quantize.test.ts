// Quantisation-aware training against the precision-redundancy authors' QLinear
// (test/fixtures/reference/binary_adapter): the forward weight W_eff and the straight-through
// gradient (μ and σ stay in the graph) for 1, 2 and 4 bits; packing the latent weight with
// peft compress's quantiser gives back exactly W_eff.
import { test } from 'node:test';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO, assertClose, useBackend } from '../../helpers/fixtures.js';
import { openSafetensors } from '../../../src/engine/io/safetensors.js';
import { fakeQuantize } from '../../../src/engine/methods/fake-quantize.js';
import { quantizeTensor, dequantizeTensor, storedLevels } from '../../../src/engine/adapters/compress/quantize.js';

const file = openSafetensors(join(REPO, 'test', 'fixtures', 'reference', 'binary_adapter', 'tensors.safetensors'));

test('fake quantisation: W_eff, y = x·W_effᵀ and the STE gradient of their QLinear', async () => {
  await useBackend();
  const W = tf.tensor(file.read('qlinear.weight'), [12, 16]);
  const x = tf.tensor(file.read('qlinear.x'), [5, 16]);
  const G = tf.tensor(file.read('qlinear.G'), [5, 12]);
  for (const b of [1, 2, 4]) {
    assertClose(fakeQuantize(W, b), Array.from(file.read(`bit${b}.w_effective`)), `bit${b} W_eff`);
    const loss = (w: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, fakeQuantize(w, b) as tf.Tensor2D, false, true), G)) as tf.Scalar;
    assertClose(tf.matMul(x, fakeQuantize(W, b) as tf.Tensor2D, false, true), Array.from(file.read(`bit${b}.y`)), `bit${b} y`);
    assertClose(tf.grad(loss)(W), Array.from(file.read(`bit${b}.grad_weight`)), `bit${b} dL/dW (straight-through, μ and σ in the graph)`, 1e-4, 1e-5);
    // the latent weight packed by peft compress decodes to W_eff
    const q = quantizeTensor(file.read('qlinear.weight'), [12, 16], b, 'tensor');
    assertClose(dequantizeTensor(q, storedLevels(b), 192), Array.from(fakeQuantize(W, b).dataSync()), `bit${b} packed = W_eff`);
  }
});
