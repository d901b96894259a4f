// A backbone initialised from the seed instead of read from a checkpoint (recipe `backbone:
// {init: random}`), for training small models from scratch. The rules torch and transformers
// use: convolutions Kaiming-normal over their fan-out (transformers' ResNet init), linear layers
// torch's default (weights and biases U(±1/√fan_in)), norms γ = 1, β = 0, batch-norm statistics
// 0 and 1, embeddings N(0, 0.02), other tensors (tokens, positions) N(0, 0.02).
import * as tf from '@tensorflow/tfjs-core';
import type { TaskModel } from './types.js';
import type { LoadReport } from './weights.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { normalArray, seedFor, uniformArray } from '../random.js';

export function randomInit(model: TaskModel, seed: number): LoadReport {
  const owner = new Map<string, { kind: 'conv'; m: Conv2d } | { kind: 'linear'; m: Linear }>();
  for (const [path, m] of model.root.namedModules()) {
    if (m instanceof Conv2d) owner.set(path, { kind: 'conv', m });
    else if (m instanceof Linear) owner.set(path, { kind: 'linear', m });
  }
  const initialized: string[] = [];
  for (const [name, p] of model.root.namedParams()) {
    const cut = name.lastIndexOf('.');
    const o = owner.get(cut < 0 ? '' : name.slice(0, cut));
    const s = seedFor(seed, name);
    let values: Float32Array;
    if (o?.kind === 'conv' && p === o.m.weight) {
      const c = o.m;
      const fanOut = (c.outChannels / c.groups) * c.kernel[0] * c.kernel[1];
      values = normalArray(p.size, Math.sqrt(2 / fanOut), s);
    } else if (o?.kind === 'linear') {
      const b = 1 / Math.sqrt(o.m.inFeatures);
      values = uniformArray(p.size, -b, b, s);
    } else if (p.tags.has('norm')) {
      values = new Float32Array(p.size).fill(p.tags.has('bias') ? 0 : 1);
    } else if (p.tags.has('bias')) {
      values = new Float32Array(p.size);
    } else {
      values = normalArray(p.size, 0.02, s);
    }
    p.set(tf.tensor(values, [...p.shape]));
    initialized.push(name);
  }
  for (const [name, b] of model.root.namedBuffers()) {
    b.set(name.endsWith('running_var') || name.endsWith('moving_variance') ? tf.ones([...b.shape]) : tf.zeros([...b.shape]));
  }
  return { loaded: 0, initialized, unused: [] };
}
