// Keras layer classes of a layers-model topology → the engine's blocks: each becomes a node that
// knows its static output shape ([H, W, C] or [features]) and computes with the shared nn blocks
// (Conv2d in Keras' HWIO layout, BatchNorm with Keras' names, Linear with Dense's [in, out]
// kernel). Parameter names are `<layer>.<weight>` (`Conv1.kernel`), the manifest's with '/' → '.'.
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d } from '../../nn/conv.js';
import { BatchNorm } from '../../nn/batch-norm.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { avgPool } from '../../nn/pool.js';
import { PeftError } from '../../../errors.js';

export type Shape = number[];

type Obj = Record<string, unknown>;

export interface KerasNode {
  name: string;
  className: string;
  config: Obj;
  /** Names of the layers whose outputs it takes (node 0 of each). */
  inputs: string[];
  outShape: Shape;
  /** The module holding its weights (conv, batch norm, dense), if any. */
  module: Module | null;
  /** Its activation after the main op (Conv2D and Dense carry one). */
  activation: string;
  /** A pooling window at least as large as its map: it averages (or maxes) the whole map. */
  global?: boolean;
}

const pair = (v: unknown, d: number): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : typeof v === 'number' ? [v, v] : [d, d]);

function unsupported(name: string, what: string): PeftError {
  return new PeftError('BACKBONE', `layer ${name}: ${what}`, {
    hint: 'supported: InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation, ZeroPadding2D, Add, AveragePooling2D, MaxPooling2D, GlobalAveragePooling2D, Flatten, Dense, Dropout',
  });
}

/** Keras activations by name, on the engine's tensors. */
export function kerasActivation(name: string, where: string): (x: tf.Tensor) => tf.Tensor {
  switch (name) {
    case 'linear': return (x) => x;
    case 'relu': return (x) => tf.relu(x);
    case 'relu6': return (x) => tf.relu6(x);
    case 'sigmoid': return (x) => tf.sigmoid(x);
    case 'tanh': return (x) => tf.tanh(x);
    case 'elu': return (x) => tf.elu(x);
    case 'selu': return (x) => tf.selu(x);
    case 'softplus': return (x) => tf.softplus(x);
    case 'swish': case 'silu': return (x) => tf.mul(x, tf.sigmoid(x));
    case 'softmax': return (x) => tf.softmax(x);
    default: throw unsupported(where, `activation ${name} is not supported`);
  }
}

/** Pads of ZeroPadding2D: an int, [h, w], or [[top, bottom], [left, right]]. */
function zeroPads(v: unknown): [[number, number], [number, number]] {
  if (typeof v === 'number') return [[v, v], [v, v]];
  if (Array.isArray(v) && Array.isArray(v[0])) return [[Number(v[0][0]), Number(v[0][1])], [Number(v[1][0]), Number(v[1][1])]];
  const [h, w] = pair(v, 1);
  return [[h, h], [w, w]];
}

function poolOut(n: number, k: number, s: number, padding: string): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** Builds one node from its layer entry and the shapes of its inputs. */
export function kerasNode(layer: Obj, inputs: string[], inShapes: Shape[]): KerasNode {
  const name = String(layer.name);
  const className = String(layer.class_name);
  const c = (layer.config ?? {}) as Obj;
  const node: KerasNode = { name, className, config: c, inputs, outShape: inShapes[0] ?? [], module: null, activation: 'linear' };
  const [h, w, ch] = inShapes[0] ?? [];
  switch (className) {
    case 'InputLayer': {
      const shape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[];
      node.outShape = shape.slice(1).map((d) => d ?? -1);
      return node;
    }
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      if (c.data_format && c.data_format !== 'channels_last') throw unsupported(name, 'only channels_last convolutions are supported');
      const depthwise = className === 'DepthwiseConv2D';
      const out = depthwise ? ch * Number(c.depth_multiplier ?? 1) : Number(c.filters);
      const conv = new Conv2d(ch, out, {
        kernel: pair(c.kernel_size, 1), stride: pair(c.strides, 1), dilation: pair(c.dilation_rate, 1),
        padding: c.padding === 'same' ? 'same' : 'valid', groups: depthwise ? ch : 1, bias: c.use_bias !== false, layout: 'hwio',
        names: { weight: depthwise ? 'depthwise_kernel' : 'kernel', bias: 'bias' },
      });
      node.module = conv;
      node.activation = String(c.activation ?? 'linear');
      const [oh, ow] = conv.outSize(h, w);
      node.outShape = [oh, ow, out];
      return node;
    }
    case 'BatchNormalization': {
      const axis = Number(c.axis ?? -1);
      if (axis !== -1 && axis !== inShapes[0].length) throw unsupported(name, `batch norm over axis ${axis} (only the channel axis, -1)`);
      node.module = new BatchNorm(inShapes[0][inShapes[0].length - 1], {
        eps: Number(c.epsilon ?? 1e-3), momentum: 1 - Number(c.momentum ?? 0.99),
        affine: { scale: c.scale !== false, center: c.center !== false },
        names: { weight: 'gamma', bias: 'beta', mean: 'moving_mean', var: 'moving_variance' },
      });
      return node;
    }
    case 'Dense': {
      const inDim = inShapes[0][inShapes[0].length - 1];
      const units = Number(c.units);
      node.module = new Linear(inDim, units, { layout: 'in_out', bias: c.use_bias !== false, names: { weight: 'kernel', bias: 'bias' } });
      node.activation = String(c.activation ?? 'linear');
      node.outShape = [...inShapes[0].slice(0, -1), units];
      return node;
    }
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = zeroPads(c.padding);
      node.outShape = [h + t + b, w + l + r, ch];
      return node;
    }
    case 'AveragePooling2D':
    case 'MaxPooling2D': {
      const [kh, kw] = pair(c.pool_size, 2);
      const [sh, sw] = c.strides ? pair(c.strides, 1) : [kh, kw];
      const pad = String(c.padding ?? 'valid');
      // MobileNetV2's AveragePooling2D(7) over its 7×7 map is a global pool; at a smaller input
      // resolution the map shrinks and the same window still covers all of it
      if (pad === 'valid' && kh >= h && kw >= w) {
        node.global = true;
        node.outShape = [1, 1, ch];
        return node;
      }
      node.outShape = [poolOut(h, kh, sh, pad), poolOut(w, kw, sw, pad), ch];
      if (node.outShape[0] < 1 || node.outShape[1] < 1) throw unsupported(name, `a ${kh}×${kw} pool over a ${h}×${w} map leaves nothing`);
      return node;
    }
    case 'GlobalAveragePooling2D':
      node.outShape = [ch];
      return node;
    case 'Flatten':
      node.outShape = [inShapes[0].reduce((a, b) => a * b, 1)];
      return node;
    case 'ReLU': case 'Activation': case 'Dropout': case 'Add':
      return node;
    default:
      throw unsupported(name, `class ${className} is not supported`);
  }
}

/** The op of a node without weights (Conv2D, Dense and BatchNormalization are run by the model). */
export function kerasOp(node: KerasNode, xs: tf.Tensor[], dropout: (x: tf.Tensor, rate: number) => tf.Tensor): tf.Tensor {
  const c = node.config;
  const x = xs[0];
  switch (node.className) {
    case 'ReLU': {
      const max = c.max_value === null || c.max_value === undefined ? null : Number(c.max_value);
      const slope = Number(c.negative_slope ?? 0);
      const threshold = Number(c.threshold ?? 0);
      let y: tf.Tensor = slope !== 0 || threshold !== 0
        ? tf.where(tf.greaterEqual(x, threshold), x, tf.mul(tf.sub(x, threshold), slope))
        : tf.relu(x);
      if (max !== null) y = max === 6 && slope === 0 && threshold === 0 ? tf.relu6(x) : tf.minimum(y, max);
      return y;
    }
    case 'Activation':
      return kerasActivation(String(c.activation), node.name)(x);
    case 'Dropout':
      return dropout(x, Number(c.rate ?? 0));
    case 'Add':
      return xs.length === 1 ? x : tf.addN(xs);
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = zeroPads(c.padding);
      return tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]]);
    }
    case 'AveragePooling2D':
    case 'MaxPooling2D': {
      if (node.global) return node.className === 'AveragePooling2D' ? tf.mean(x, [1, 2], true) : tf.max(x, [1, 2], true);
      const pool = pair(c.pool_size, 2);
      const strides = c.strides ? pair(c.strides, 1) : pool;
      const pad = c.padding === 'same' ? 'same' : 'valid';
      return node.className === 'AveragePooling2D' ? avgPool(x as tf.Tensor4D, pool, strides, pad) : tf.maxPool(x as tf.Tensor4D, pool, strides, pad);
    }
    case 'GlobalAveragePooling2D':
      return tf.mean(x, [1, 2]);
    case 'Flatten':
      return tf.reshape(x, [x.shape[0], -1]);
    default:
      return x;
  }
}
