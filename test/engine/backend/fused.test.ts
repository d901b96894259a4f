// The fused ops (gelu, layerNorm): on native, one kernel each way, compared with the
// composite of tfjs ops on cpu — values and gradients; on wasm/cpu they are that composite.
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients, gelu, initBackend, layerNorm, listBackends } from '../../../src/engine/backend/index.js';
import { assertGradParity, assertNoLeak, assertParity, randn } from './parity.js';

await ensureGradients();
const status = (await listBackends()).find((s) => s.name === 'native');
const skip = status?.available ? false : `native backend unavailable: ${status?.reason}`;
if (!skip) await initBackend('native');
const backends = ['wasm', ...(skip ? [] : ['native'])];

test('gelu (tanh and exact) matches the composite, values and gradients', async () => {
  for (const b of backends) {
    for (const approx of ['tanh', 'none'] as const) {
      for (const shape of [[3, 7], [300, 129]]) {
        const x = randn(shape, 1, 4);
        await assertParity(b, `gelu ${approx} ${shape}`, [x], (t) => gelu(t, approx), 1e-5, 1e-6);
        await assertGradParity(b, `gelu ${approx} ${shape}`, [x], (t) => gelu(t, approx), 1e-4, 1e-5);
      }
    }
  }
});

test('layerNorm with and without beta matches the composite, values and gradients', async () => {
  for (const b of backends) {
    for (const shape of [[4, 8], [2, 3, 33], [512, 256]]) {
      const h = shape[shape.length - 1];
      const inputs = [randn(shape, 2, 3), randn([h], 3), randn([h], 4)];
      const f = (x: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => layerNorm(x, g, be, 1e-12);
      const g2 = (x: tf.Tensor, g: tf.Tensor) => layerNorm(x, g, null, 1e-5);
      await assertParity(b, `layerNorm ${shape}`, inputs, f, 1e-4, 1e-5);
      await assertGradParity(b, `layerNorm ${shape}`, inputs, f, 1e-3, 1e-4);
      await assertParity(b, `layerNorm no beta ${shape}`, inputs.slice(0, 2), g2, 1e-4, 1e-5);
      await assertGradParity(b, `layerNorm no beta ${shape}`, inputs.slice(0, 2), g2, 1e-3, 1e-4);
    }
  }
});

test('no tensor leaks in training-style use', { skip }, async () => {
  await tf.setBackend('native');
  const x = tf.randomNormal([64, 32]);
  const g = tf.variable(tf.ones([32]), true, 'fused_leak_g');
  const b = tf.variable(tf.zeros([32]), true, 'fused_leak_b');
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(gelu(layerNorm(x, g, b, 1e-12), 'tanh')) as tf.Scalar, [g, b]);
      g.assign(tf.sub(g, tf.mul(0.01, grads[g.name])));
    });
  await assertNoLeak('native', step);
  tf.dispose([x, g, b]);
});
