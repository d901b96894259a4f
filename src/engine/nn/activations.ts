// Activation functions by the names Hugging Face configs use (`hidden_act`).
import * as tf from '@tensorflow/tfjs-core';
import { PeftError } from '../../errors.js';

export type Activation = (x: tf.Tensor) => tf.Tensor;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export const gelu: Activation = (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));

/** GELU, tanh approximation (`gelu_new`, `gelu_pytorch_tanh`). x·x·x, not pow: pow is slow on wasm. */
export const geluTanh: Activation = (x) => {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
};

export const silu: Activation = (x) => tf.mul(x, tf.sigmoid(x));

const TABLE: Record<string, Activation> = {
  relu: (x) => tf.relu(x),
  gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  silu,
  swish: silu,
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
  identity: (x) => x,
  linear: (x) => x,
};

export const ACTIVATION_NAMES = Object.keys(TABLE);

export function activation(name: string): Activation {
  const f = TABLE[name];
  if (!f) {
    throw new PeftError('BACKBONE', `unknown activation "${name}"`, { hint: `supported: ${ACTIVATION_NAMES.join(', ')}` });
  }
  return f;
}
