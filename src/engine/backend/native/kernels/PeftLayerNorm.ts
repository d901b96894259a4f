// PeftLayerNorm: LayerNorm over the last axis in one pass per row (native/fused.c).
// Outputs [y, mean, rstd] (mean and 1/std per row, kept for the gradient).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, output, size } from './util.js';

export const PEFT_LAYER_NORM = 'PeftLayerNorm';

const layerNorm: KernelFunc = (args) => {
  const { x, gamma, beta } = args.inputs as Record<string, TensorInfo | undefined> as { x: TensorInfo; gamma: TensorInfo; beta?: TensorInfo };
  const { epsilon } = args.attrs as { epsilon: number };
  const cols = x.shape[x.shape.length - 1];
  const rows = cols === 0 ? 0 : size(x.shape) / cols;
  const y = allocF32(args.backend, size(x.shape));
  const mean = allocF32(args.backend, rows);
  const rstd = allocF32(args.backend, rows);
  const b = beta ? f32(args.backend, beta) : null;
  if (rows > 0) addonOf(args.backend).layerNorm(f32(args.backend, x), f32(args.backend, gamma), b, y, mean, rstd, rows, cols, epsilon);
  const rowShape = x.shape.slice(0, -1);
  return [output(args.backend, x.shape, 'float32', y), output(args.backend, rowShape, 'float32', mean), output(args.backend, rowShape, 'float32', rstd)];
};

export const peftLayerNormConfig: KernelConfig = { kernelName: PEFT_LAYER_NORM, backendName: 'native', kernelFunc: layerNorm };
