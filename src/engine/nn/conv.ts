// A 2-D convolution over channels-last activations [B, H, W, C] — the layout every
// convolutional backbone here computes in, so that a unified-view module at a convolution (a
// bias, a scaling, a bottleneck over channels) is an op on the last axis as it is at a linear
// layer. The weight keeps its checkpoint's layout so it loads and saves by name: torch's Conv2d
// `[out, in/groups, kh, kw]` (`oihw`) or Keras' Conv2D `[kh, kw, in, out]` and DepthwiseConv2D
// `[kh, kw, in, multiplier]` (`hwio`). Groups: 1 (a full convolution) or the input channels
// (depthwise).
import * as tf from '@tensorflow/tfjs-core';
import { Module, type Param } from './module.js';
import { PeftError } from '../../errors.js';

export type ConvLayout = 'oihw' | 'hwio';

/** Zero padding per side. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface Conv2dOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  /** A number or [h, w] pads both sides (torch); 'same' / 'valid' as TensorFlow computes them; or explicit pads. */
  padding?: number | [number, number] | 'same' | 'valid' | Pads;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  layout?: ConvLayout;
  /** Parameter names in the checkpoint (torch: weight/bias; Keras: kernel/bias, depthwise_kernel). */
  names?: { weight?: string; bias?: string };
  tags?: string[];
}

export type ConvKind = 'pointwise' | 'depthwise' | 'spatial';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

export class Conv2d extends Module {
  readonly weight: Param;
  readonly bias: Param | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly layout: ConvLayout;
  readonly padding: 'same' | 'valid' | Pads;
  /** The filter in tfjs's layout, kept while the weight is a frozen tensor (see `filter`). */
  private cached: { source: tf.Tensor; filter: tf.Tensor4D } | null = null;

  constructor(readonly inChannels: number, readonly outChannels: number, opts: Conv2dOptions) {
    super();
    this.kernel = pair(opts.kernel);
    this.stride = pair(opts.stride ?? 1);
    this.dilation = pair(opts.dilation ?? 1);
    this.groups = opts.groups ?? 1;
    this.layout = opts.layout ?? 'oihw';
    if (this.groups !== 1 && !(this.groups === inChannels && outChannels % inChannels === 0)) {
      throw new PeftError('BACKBONE', `convolution with ${this.groups} groups over ${inChannels} channels is not supported`, {
        hint: 'only full (groups 1) and depthwise (groups = input channels) convolutions are',
      });
    }
    const p = opts.padding ?? 0;
    if (p === 'same' || p === 'valid' || typeof p === 'object' && !Array.isArray(p)) this.padding = p;
    else {
      const [ph, pw] = pair(p);
      this.padding = { top: ph, bottom: ph, left: pw, right: pw };
    }
    const [kh, kw] = this.kernel;
    const shape = this.layout === 'oihw'
      ? [outChannels, inChannels / this.groups, kh, kw]
      : [kh, kw, inChannels, this.depthwise ? outChannels / inChannels : outChannels];
    const tags = ['conv', ...(opts.tags ?? [])];
    this.weight = this.param(opts.names?.weight ?? 'weight', shape, tags);
    this.bias = opts.bias ? this.param(opts.names?.bias ?? 'bias', [outChannels], ['bias', ...tags]) : null;
  }

  get depthwise(): boolean {
    return this.groups > 1;
  }

  /** 1×1 full convolutions, depthwise ones, and the other (k×k) full ones. */
  get kind(): ConvKind {
    if (this.depthwise) return 'depthwise';
    return this.kernel[0] === 1 && this.kernel[1] === 1 ? 'pointwise' : 'spatial';
  }

  /** The padding as tfjs ops take it. */
  get tfPad(): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
    const p = this.padding;
    if (typeof p === 'string') return p;
    return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
  }

  /** A weight in this layer's layout → tfjs's filter: [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]). */
  toFilter(weight: tf.Tensor): tf.Tensor4D {
    if (this.layout === 'hwio') return weight as tf.Tensor4D;
    if (!this.depthwise) return tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
    // torch [C·m, 1, kh, kw], output channel c·m + j → [kh, kw, C, m]
    const m = this.outChannels / this.inChannels;
    return tf.transpose(tf.reshape(weight, [this.inChannels, m, this.kernel[0], this.kernel[1]]), [2, 3, 0, 1]) as tf.Tensor4D;
  }

  /** A filter in tfjs's layout → this layer's weight layout (for merged deltas). */
  fromFilter(filter: tf.Tensor4D): tf.Tensor {
    if (this.layout === 'hwio') return filter;
    if (!this.depthwise) return tf.transpose(filter, [3, 2, 0, 1]);
    return tf.reshape(tf.transpose(filter, [2, 3, 0, 1]), [this.outChannels, 1, this.kernel[0], this.kernel[1]]);
  }

  /** The current weight as a tfjs filter; a frozen weight is converted once and kept. */
  filter(): tf.Tensor4D {
    const w = this.weight.value;
    if (this.layout === 'hwio' || this.weight.trainable) return this.toFilter(w);
    if (this.cached && this.cached.source === w && !w.isDisposed) return this.cached.filter;
    this.cached?.filter.dispose();
    const filter = tf.keep(tf.tidy(() => this.toFilter(w)));
    this.cached = { source: w, filter };
    return filter;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.forwardWith(x, this.filter(), this.bias?.value ?? null);
  }

  /** The convolution of x [B, H, W, in] with a filter in tfjs's layout (a weight-space method's adapted one). */
  forwardWith(x: tf.Tensor, filter: tf.Tensor4D, bias: tf.Tensor | null): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    const y = this.depthwise
      ? tf.depthwiseConv2d(x4, filter, this.stride, this.tfPad, 'NHWC', this.dilation)
      : tf.conv2d(x4, filter, this.stride, this.tfPad, 'NHWC', this.dilation);
    return bias ? tf.add(y, bias) : y;
  }

  /** Spatial size of the output for an input of h × w. */
  outSize(h: number, w: number): [number, number] {
    const [sh, sw] = this.stride;
    const [kh, kw] = this.kernel.map((k, i) => (k - 1) * this.dilation[i] + 1);
    if (this.padding === 'same') return [Math.ceil(h / sh), Math.ceil(w / sw)];
    const p = this.padding === 'valid' ? { top: 0, bottom: 0, left: 0, right: 0 } : this.padding;
    return [Math.floor((h + p.top + p.bottom - kh) / sh) + 1, Math.floor((w + p.left + p.right - kw) / sw) + 1];
  }

  override dispose(): void {
    this.cached?.filter.dispose();
    this.cached = null;
    super.dispose();
  }
}
