// The convolution kernels the engine adds — native: Conv2D and both its gradients as im2col +
// sgemm, depthwise ones as loops; wasm: the gradients tfjs-backend-wasm lacks (Conv2D's filter
// gradient, both depthwise gradients) — against tfjs-backend-cpu: values and gradients over
// strides, padding kinds (explicit, same, valid), 1×1 and k×k filters, multipliers, and batches
// large enough to be cut into chunks.
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients, initBackend, listBackends } from '../../../../src/engine/backend/index.js';
import { chunkSize, setChunkBudget } from '../../../../src/engine/backend/conv/im2col.js';
import { assertGradParity, assertNoLeak, assertParity, randn } from '../parity.js';
import assert from 'node:assert/strict';

await ensureGradients();
const status = await listBackends();
const available = (name: string) => status.find((s) => s.name === name)?.available === true;

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
const CONVS: { x: number[]; f: number[]; stride: number; pad: Pad; what: string }[] = [
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], stride: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], what: '3×3 explicit pads' },
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], stride: 2, pad: 'same', what: '3×3 stride 2 same' },
  { x: [3, 5, 5, 4], f: [1, 1, 4, 6], stride: 1, pad: 'valid', what: '1×1 stride 1' },
  { x: [2, 6, 6, 4], f: [1, 1, 4, 5], stride: 2, pad: 'valid', what: '1×1 stride 2' },
  { x: [1, 9, 9, 2], f: [7, 7, 2, 3], stride: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]], what: '7×7 stride 2 (a ResNet stem)' },
];
const DEPTHWISE: { x: number[]; f: number[]; stride: number; pad: Pad; what: string }[] = [
  { x: [2, 6, 7, 5], f: [3, 3, 5, 1], stride: 1, pad: 'same', what: '3×3 same' },
  { x: [2, 7, 7, 4], f: [3, 3, 4, 1], stride: 2, pad: 'valid', what: '3×3 stride 2 valid' },
  { x: [1, 5, 5, 3], f: [3, 3, 3, 2], stride: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], what: 'multiplier 2, explicit pads' },
];

for (const backend of ['native', 'wasm']) {
  const skip = available(backend) ? false : `${backend} backend unavailable`;
  test(`conv2d on ${backend}: values and gradients (input and filter) as the cpu backend`, { skip }, async () => {
    await initBackend(backend);
    for (const c of CONVS) {
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad as 'same');
      await assertParity(backend, `conv2d ${c.what}`, [randn(c.x, 1), randn(c.f, 2)], f, 1e-4, 1e-5);
      await assertGradParity(backend, `conv2d ${c.what}`, [randn(c.x, 1), randn(c.f, 2)], f, 1e-4, 1e-4);
    }
  });

  test(`depthwiseConv2d on ${backend}: values and gradients as the cpu backend`, { skip }, async () => {
    await initBackend(backend);
    for (const c of DEPTHWISE) {
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad as 'same');
      await assertParity(backend, `depthwise ${c.what}`, [randn(c.x, 3), randn(c.f, 4)], f, 1e-4, 1e-5);
      await assertGradParity(backend, `depthwise ${c.what}`, [randn(c.x, 3), randn(c.f, 4)], f, 1e-4, 1e-4);
    }
  });

  test(`conv2d gradients on ${backend} over a batch cut into chunks, without leaking tensors`, { skip }, async () => {
    await initBackend(backend);
    // a budget of 3 images' patch rows: 7 images go in chunks of 3, 3 and 1
    const x = randn([7, 6, 6, 4], 5);
    const w = randn([3, 3, 4, 5], 6);
    const info = tf.backend_util.computeConv2DInfo([7, 6, 6, 4], [3, 3, 4, 5], 1, 1, 'same');
    const before = setChunkBudget(3 * 6 * 6 * 3 * 3 * 4);
    assert.equal(chunkSize(info), 3);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same');
    try {
      await assertParity(backend, 'conv2d in chunks', [x, w], f, 1e-4, 1e-5);
      await assertGradParity(backend, 'conv2d in chunks', [x, w], f, 1e-4, 1e-4);
    } finally {
      setChunkBudget(before);
    }
    const xt = tf.tensor(x.values, x.shape) as tf.Tensor4D;
    const wt = tf.tensor(w.values, w.shape) as tf.Tensor4D;
    await assertNoLeak(backend, () => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(f(a, b)))([xt, wt]);
      tf.dispose(g);
    });
    tf.dispose([xt, wt]);
  });
}
