// Rotary position embeddings in the Hugging Face convention ("rotate_half": dimension i pairs
// with i + d/2), with inv_freq_i = θ^(−2i/d).
import * as tf from '@tensorflow/tfjs-core';

export class Rotary {
  private cache = new Map<string, { cos: tf.Tensor2D; sin: tf.Tensor2D }>();
  constructor(readonly headDim: number, readonly theta: number) {}

  /** cos and sin tables [T, d] for positions offset..offset+T−1 (cached, kept). */
  tables(offset: number, length: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const key = `${offset}:${length}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const d = this.headDim;
    const half = d / 2;
    const cos = new Float32Array(length * d);
    const sin = new Float32Array(length * d);
    for (let t = 0; t < length; t++) {
      const pos = offset + t;
      for (let i = 0; i < half; i++) {
        // float32 inv_freq as torch computes it, then the angle in float32
        const invFreq = Math.fround(1 / Math.pow(this.theta, (2 * i) / d));
        const angle = Math.fround(pos * invFreq);
        cos[t * d + i] = cos[t * d + i + half] = Math.cos(angle);
        sin[t * d + i] = sin[t * d + i + half] = Math.sin(angle);
      }
    }
    const entry = { cos: tf.keep(tf.tensor2d(cos, [length, d])), sin: tf.keep(tf.tensor2d(sin, [length, d])) };
    if (this.cache.size > 64) this.clear();
    this.cache.set(key, entry);
    return entry;
  }

  private rotation: tf.Tensor2D | null = null;

  /**
   * rotate_half as a [d, d] matrix R (x·R = concat(−x₂, x₁)): one small matmul instead of
   * slice/negate/concat, whose kernels and gradients are slow on several backends.
   */
  private rotateHalfMatrix(): tf.Tensor2D {
    if (!this.rotation) {
      const d = this.headDim;
      const half = d / 2;
      const r = new Float32Array(d * d);
      for (let i = 0; i < half; i++) {
        r[(i + half) * d + i] = -1; // out[i] = −x[i + half]
        r[i * d + (i + half)] = 1; // out[i + half] = x[i]
      }
      this.rotation = tf.keep(tf.tensor2d(r, [d, d]));
    }
    return this.rotation;
  }

  /** Applies the rotation to x [B, H, T, d]. */
  apply(x: tf.Tensor4D, offset: number): tf.Tensor4D {
    const [B, H, T, d] = x.shape;
    const { cos, sin } = this.tables(offset, T);
    const rotated = tf.reshape(tf.matMul(tf.reshape(x, [-1, d]) as tf.Tensor2D, this.rotateHalfMatrix()), [B, H, T, d]);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  }

  clear(): void {
    this.rotation?.dispose();
    this.rotation = null;
    for (const { cos, sin } of this.cache.values()) {
      cos.dispose();
      sin.dispose();
    }
    this.cache.clear();
  }
}
