// lowrank at a convolution, as Python peft's Conv2d LoRA: lora_A a k×k convolution from the
// input channels to r with the base convolution's stride, padding and dilation, lora_B a 1×1
// convolution from r to the output channels, Δh = s·B(A(x)); stored in that layout
// (lora_A [r, in, kh, kw], lora_B [out, r, 1, 1]), so peft loads it and back. Merged, the
// kernel gains ΔW[o, i, :, :] = s·Σ_r B[o, r]·A[r, i, :, :].
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../nn/module.js';
import type { ForwardContext } from '../nn/context.js';
import type { ConvGeometry } from '../backbones/types.js';
import { SiteModule } from './compose.js';
import { channelProduct, convolveLike } from './conv-geometry.js';
import type { WeightFold } from './types.js';

export class ConvLowRank extends SiteModule {
  protected readonly nonlinear = null;
  readonly A: Param;
  readonly B: Param;

  constructor(readonly geometry: ConvGeometry, readonly inDim: number, readonly outDim: number, readonly rank: number) {
    super();
    const [kh, kw] = geometry.kernel;
    this.A = this.param('lora_A', [rank, inDim, kh, kw], ['adapter']);
    this.B = this.param('lora_B', [outDim, rank, 1, 1], ['adapter']);
  }

  /** Fan-in of lora_A as torch's kaiming_uniform_ sees it: in·kh·kw. */
  get fanIn(): number {
    return this.inDim * this.geometry.kernel[0] * this.geometry.kernel[1];
  }

  delta(u: tf.Tensor, _ctx: ForwardContext): tf.Tensor {
    const a = convolveLike(this.geometry, u, tf.transpose(this.A.value, [2, 3, 1, 0]) as tf.Tensor4D);
    return channelProduct(a, tf.reshape(this.B.value, [this.outDim, this.rank]) as tf.Tensor2D);
  }

  override fold(): WeightFold {
    const base = super.fold();
    if (base.kind === 'refuse') return base;
    const [kh, kw] = this.geometry.kernel;
    return {
      kind: 'filter-delta',
      filter: () => tf.tidy(() => {
        const w = tf.matMul(tf.reshape(this.B.value, [this.outDim, this.rank]) as tf.Tensor2D,
          tf.reshape(this.A.value, [this.rank, this.inDim * kh * kw]) as tf.Tensor2D);
        return tf.transpose(tf.mul(tf.reshape(w, [this.outDim, this.inDim, kh, kw]), this.scaleValue()), [2, 3, 1, 0]) as tf.Tensor4D;
      }),
    };
  }
}
