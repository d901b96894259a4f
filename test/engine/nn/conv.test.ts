// Conv2d in both checkpoint layouts: torch's [out, in/groups, kh, kw] and Keras' [kh, kw, in, out]
// (depthwise [kh, kw, in, multiplier]) give the same convolution; the layout round trip; padding
// by pads, 'same' and 'valid'; output sizes; groups other than 1 or the channels are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/fixtures.js';
import { Conv2d } from '../../../src/engine/nn/conv.js';

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

test('torch and Keras layouts compute the same full and depthwise convolutions', async () => {
  await useBackend();
  const torch = new Conv2d(3, 4, { kernel: 3, stride: 2, padding: 1, bias: true });
  torch.nameTree();
  torch.weight.set(rand([4, 3, 3, 3], 1));
  torch.bias!.set(rand([4], 2));
  const keras = new Conv2d(3, 4, { kernel: 3, stride: 2, padding: { top: 1, bottom: 1, left: 1, right: 1 }, bias: true, layout: 'hwio' });
  keras.nameTree();
  keras.weight.set(tf.transpose(torch.weight.value, [2, 3, 1, 0]));
  keras.bias!.set(tf.clone(torch.bias!.value));
  const x = rand([2, 7, 7, 3], 3);
  assert.ok(diff(torch.forward(x), keras.forward(x)) < 1e-5);
  assert.deepEqual(torch.forward(x).shape, [2, 4, 4, 4]);
  assert.deepEqual(torch.outSize(7, 7), [4, 4]);
  assert.equal(torch.kind, 'spatial');
  const back = torch.fromFilter(torch.toFilter(torch.weight.value));
  assert.equal(diff(back, torch.weight.value), 0);

  const dw = new Conv2d(4, 8, { kernel: 3, groups: 4, padding: 'same' });
  dw.nameTree();
  dw.weight.set(rand([8, 1, 3, 3], 4));
  assert.equal(dw.kind, 'depthwise');
  const xs = rand([1, 5, 5, 4], 5);
  // torch's grouped convolution by hand: output channel c·2 + j reads input channel c
  const w = dw.weight.value.arraySync() as number[][][][];
  const filter = tf.tensor4d(Array.from({ length: 3 }, (_, a) => Array.from({ length: 3 }, (_, b) => Array.from({ length: 4 }, (_, c) => [w[c * 2][0][a][b], w[c * 2 + 1][0][a][b]]))));
  assert.ok(diff(dw.forward(xs), tf.depthwiseConv2d(xs as tf.Tensor4D, filter, 1, 'same')) < 1e-5);
  assert.equal(diff(dw.fromFilter(dw.toFilter(dw.weight.value)), dw.weight.value), 0);
  assert.equal(new Conv2d(4, 4, { kernel: 1 }).kind, 'pointwise');
  assert.throws(() => new Conv2d(4, 4, { kernel: 3, groups: 2 }), /2 groups over 4 channels is not supported/);
});
