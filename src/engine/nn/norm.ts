import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from './module.js';
import { layerNorm as fusedLayerNorm, rmsNorm as fusedRmsNorm } from '../backend/fused/index.js';

/** LayerNorm over the last axis (biased variance, as torch). */
export class LayerNorm extends Module {
  readonly weight: Param;
  readonly bias: Param | null;
  constructor(readonly dim: number, readonly eps: number, opts: { bias?: boolean } = {}) {
    super();
    this.weight = this.param('weight', [dim], ['norm']);
    this.bias = opts.bias === false ? null : this.param('bias', [dim], ['norm', 'bias']);
  }

  forward(x: tf.Tensor): tf.Tensor {
    // one fused kernel (forward and backward) where the backend has it, tfjs ops elsewhere
    return fusedLayerNorm(x, this.weight.value, this.bias?.value ?? null, this.eps);
  }
}

/** RMSNorm (LLaMA, T5's LayerNorm): x / sqrt(mean(x²) + eps) · w, no centering, no bias. */
export class RMSNorm extends Module {
  readonly weight: Param;
  constructor(readonly dim: number, readonly eps: number) {
    super();
    this.weight = this.param('weight', [dim], ['norm']);
  }

  forward(x: tf.Tensor): tf.Tensor {
    // one fused kernel (forward and backward) where the backend has it, tfjs ops elsewhere
    return fusedRmsNorm(x, this.weight.value, this.eps);
  }
}
