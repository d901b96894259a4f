// PeftRmsNorm / PeftRmsNormGrad: RMSNorm over the last axis and its gradients (native/rms_norm.c).
// The gradient kernel gives one input's gradient (attrs.which: 'x' | 'w'), so the tape asks only
// for those it needs.
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, type Ins, output, size } from './util.js';

export const PEFT_RMS_NORM = 'PeftRmsNorm';
export const PEFT_RMS_NORM_GRAD = 'PeftRmsNormGrad';

const rmsNorm: KernelFunc = (args) => {
  const { x, w } = args.inputs as Ins;
  const { eps } = args.attrs as { eps: number };
  const cols = x.shape[x.shape.length - 1];
  const n = size(x.shape);
  const y = allocF32(args.backend, n);
  if (n > 0) addonOf(args.backend).rmsNorm(f32(args.backend, x), f32(args.backend, w), y, n / cols, cols, eps);
  return output(args.backend, x.shape, 'float32', y);
};

const rmsNormGrad: KernelFunc = (args) => {
  const { x, w, dy } = args.inputs as Ins;
  const { eps, which } = args.attrs as { eps: number; which: 'x' | 'w' };
  const cols = x.shape[x.shape.length - 1];
  const n = size(x.shape);
  const shape = which === 'x' ? x.shape : [cols];
  const out = allocF32(args.backend, size(shape));
  if (n > 0) {
    addonOf(args.backend).rmsNormGrad(which === 'x' ? 0 : 1, f32(args.backend, x), f32(args.backend, w), f32(args.backend, dy), out, n / cols, cols, eps);
  } else out.fill(0);
  return output(args.backend, shape, 'float32', out);
};

export const peftRmsNormConfig: KernelConfig = { kernelName: PEFT_RMS_NORM, backendName: 'native', kernelFunc: rmsNorm };
export const peftRmsNormGradConfig: KernelConfig = { kernelName: PEFT_RMS_NORM_GRAD, backendName: 'native', kernelFunc: rmsNormGrad };
