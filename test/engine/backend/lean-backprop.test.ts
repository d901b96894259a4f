// The backward pass that frees as it goes (backend/lean-backprop.ts) against tfjs-core's own
// (the Engine class's method, which the installed one shadows on the engine instance): the same
// gradients bit for bit, nothing left behind, and a peak of tensor memory that does not grow
// with the depth of the graph. On the cpu backend: tensor bytes are tfjs's own count, the same on
// every backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../../../src/engine/backend/index.js';

await ensureGradients();
await tf.setBackend('cpu');

type Gradients = (f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean) => unknown;
const engine = tf.engine() as unknown as { gradients: Gradients };
const lean = engine.gradients;
const stock = Object.getPrototypeOf(engine).gradients as Gradients;
assert.notEqual(lean, stock, 'ensureGradients installs the lean backward pass');

/** f run with tfjs's own backward pass in place of the lean one. */
function withStock<T>(f: () => T): T {
  engine.gradients = stock;
  try {
    return f();
  } finally {
    engine.gradients = lean;
  }
}

function values(ts: tf.Tensor[]): number[][] {
  return ts.map((t) => Array.from(t.dataSync()));
}

/** A small network with what the bookkeeping must get right: a tensor used three times
 * (partial gradients summed), identities and a custom gradient that hands dy back unchanged,
 * an op with two outputs of which one is unused (a zero gradient), a branch off the path to y. */
function net(w1: tf.Variable, w2: tf.Variable, x: tf.Tensor2D): tf.Scalar {
  const passThrough = tf.customGrad((a: tf.Tensor, save: tf.GradSaveFunc) => {
    save([a]);
    return { value: tf.mul(a, 1), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => dy as tf.Tensor };
  });
  const h = tf.relu(tf.matMul(x, w1));
  const used3 = tf.add(tf.mul(h, h), tf.sigmoid(h));
  const [top] = tf.split(passThrough(tf.clone(used3)), 2, 1);
  tf.exp(w2); // off the path to y: no gradient flows through it
  return tf.sum(tf.square(tf.matMul(top!, w2)));
}

test('the lean backward pass gives exactly tfjs-core\'s gradients, and leaves no tensor behind', () => {
  const x = tf.randomNormal([6, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
  const w1 = tf.variable(tf.randomNormal([5, 8], 0, 1, 'float32', 2));
  const w2 = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 3));
  const before = tf.memory().numTensors;
  const mine = tf.variableGrads(() => net(w1, w2, x), [w1, w2]);
  const theirs = withStock(() => tf.variableGrads(() => net(w1, w2, x), [w1, w2]));
  assert.deepEqual(values(Object.values(mine.grads)), values(Object.values(theirs.grads)));
  assert.equal(mine.value.dataSync()[0], theirs.value.dataSync()[0]);
  tf.dispose([mine.value, theirs.value, ...Object.values(mine.grads), ...Object.values(theirs.grads)]);
  assert.equal(tf.memory().numTensors, before, 'value and gradients only; everything else disposed');
  tf.dispose([x, w1, w2]);
});

test('a caller\'s dy and gradients with respect to intermediate tensors are kept', () => {
  const x = tf.tensor1d([1, 2, 3]);
  const dy = tf.tensor1d([1, 0.5, 2]);
  const run = () => {
    let mid: tf.Tensor | null = null;
    const { value, grads } = tf.engine().gradients(() => {
      mid = tf.mul(x, 3);
      return tf.square(mid);
    }, [x], dy) as { value: tf.Tensor; grads: tf.Tensor[] };
    return { value, grads, mid: mid! };
  };
  const mine = run();
  assert.ok(!dy.isDisposed, 'the caller\'s dy stays');
  assert.deepEqual(Array.from(mine.grads[0]!.dataSync()), [18, 18, 108]); // dy · 2·(3x)·3
  const m2 = tf.grads((a: tf.Tensor) => tf.sum(tf.square(tf.mul(a, 2))))([x]);
  assert.deepEqual(Array.from(m2[0]!.dataSync()), [8, 16, 24]);
  tf.dispose([x, dy, mine.value, mine.mid, ...mine.grads, ...m2]);
});

test('gradients of gradients still work (saved tensors stay while an outer tape needs them)', () => {
  const x = tf.scalar(3);
  const d2 = tf.grad(tf.grad((a: tf.Tensor) => tf.mul(tf.pow(a, 3), 2)))(x); // d²/dx² 2x³ = 12x
  const theirs = withStock(() => tf.grad(tf.grad((a: tf.Tensor) => tf.mul(tf.pow(a, 3), 2)))(x));
  assert.equal(d2.dataSync()[0], 36);
  assert.equal(d2.dataSync()[0], theirs.dataSync()[0]);
  tf.dispose([x, d2, theirs]);
});

test('backward holds a few tensors above what the forward left for it (tfjs-core\'s: two more a layer)', async () => {
  const x = tf.variable(tf.randomNormal([256, 256], 0, 1, 'float32', 4));
  const size = 256 * 256 * 4;
  const layers = 24;
  const f = () => {
    let h: tf.Tensor = x;
    for (let i = 0; i < layers; i++) h = tf.tanh(tf.mul(h, 1.01));
    return tf.sum(h) as tf.Scalar;
  };
  /** Tensor bytes (tfjs's count after each kernel), in tensors of x's size: when backward starts, and its peak. */
  const backward = async () => {
    const base = tf.memory().numBytes;
    const { kernels } = await tf.profile(() => tf.tidy(() => {
      tf.variableGrads(f, [x]);
    }));
    const at = kernels.map((k) => (k.totalBytesSnapshot - base) / size);
    const first = kernels.findIndex((k) => k.name === 'Sum') + 1; // the forward ends with the sum
    return { start: at[first]!, peak: Math.max(...at.slice(first)) };
  };
  const mine = await backward();
  const theirs = await withStock(backward);
  assert.equal(mine.start, theirs.start, 'the same forward');
  assert.ok(mine.peak - mine.start <= 4, `lean: ${mine.peak - mine.start} tensors above the start of backward`);
  assert.ok(theirs.peak - theirs.start >= 2 * layers, `tfjs-core: ${theirs.peak - theirs.start} tensors above the start of backward`);
  x.dispose();
});
