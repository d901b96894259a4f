// Pooling over channels-last activations [B, H, W, C]: max pooling with torch's padding (padded
// cells never win), average pooling as Keras' AveragePooling2D, and the global average pool
// (torch's AdaptiveAvgPool2d((1, 1)), Keras' GlobalAveragePooling2D).
import * as tf from '@tensorflow/tfjs-core';

/** MaxPool2d(kernel, stride, padding) as torch computes it: the pads hold −∞. */
export function maxPool(x: tf.Tensor4D, kernel: number, stride: number, padding: number): tf.Tensor4D {
  const padded = padding > 0 ? tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]], -Infinity) : x;
  return tf.maxPool(padded, kernel, stride, 'valid');
}

/** Average pooling with TensorFlow's 'valid' / 'same' padding (Keras: padded cells are not counted). */
export function avgPool(x: tf.Tensor4D, pool: [number, number], stride: [number, number], padding: 'valid' | 'same'): tf.Tensor4D {
  return tf.avgPool(x, pool, stride, padding);
}

/** Mean over H and W: [B, H, W, C] → [B, C]. */
export function globalAvgPool(x: tf.Tensor): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}
