import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from './module.js';

export class Embedding extends Module {
  readonly weight: Param;
  constructor(readonly num: number, readonly dim: number, tags: string[] = []) {
    super();
    this.weight = this.param('weight', [num, dim], ['embedding', ...tags]);
  }

  forward(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.weight.value, tf.cast(ids, 'int32'));
  }
}
