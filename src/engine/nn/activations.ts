// Activation functions by the names Hugging Face configs use (`hidden_act`).
import * as tf from '@tensorflow/tfjs-core';
import { PeftError } from '../../errors.js';
import { gelu as fusedGelu } from '../backend/fused/index.js';

export type Activation = (x: tf.Tensor) => tf.Tensor;

/** GELU, exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (one fused kernel where the backend has it). */
export const gelu: Activation = (x) => fusedGelu(x, 'none');

/** GELU, tanh approximation (`gelu_new`, `gelu_pytorch_tanh`). */
export const geluTanh: Activation = (x) => fusedGelu(x, 'tanh');

export const silu: Activation = (x) => tf.mul(x, tf.sigmoid(x));

/** CLIP's quick GELU: x·σ(1.702·x). */
export const quickGelu: Activation = (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));

const TABLE: Record<string, Activation> = {
  relu: (x) => tf.relu(x),
  gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  silu,
  swish: silu,
  quick_gelu: quickGelu,
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
