// The probe batch `peft merge` runs through the model before and after folding, for the model's
// own kind of input: token ids, pixels at its image size, or filterbank frames.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs, TaskModel } from '../backbones/types.js';
import type { TaskType } from '../../plan/index.js';
import { imageSpec } from '../data/images.js';
import { imageConfig } from '../data/build.js';
import { audioSpec } from '../data/audio/features.js';

/** Deterministic values in [−1, 1). */
function wave(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.9);
}

export function probeInputs(model: TaskModel, task: TaskType): ModelInputs {
  const vocab = model.dims.vocab || 100;
  const ids = tf.tensor2d(Array.from({ length: 2 * 12 }, (_, i) => (i * 37 + 11) % vocab), [2, 12], 'int32');
  if (task === 'image-cls' || task === 'clip-cls') {
    const s = imageSpec(imageConfig(model.config));
    const pixels = tf.tensor4d(wave(2 * s.channels * s.size * s.size), [2, s.channels, s.size, s.size]);
    return { pixelValues: pixels };
  }
  if (task === 'audio-cls') {
    const a = audioSpec(model.config);
    return { inputValues: tf.tensor3d(wave(2 * a.maxLength * a.melBins), [2, a.maxLength, a.melBins]) };
  }
  return task === 'seq2seq' ? { inputIds: ids, decoderInputIds: ids } : { inputIds: ids };
}
