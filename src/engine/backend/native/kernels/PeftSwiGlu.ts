// PeftSwiGlu / PeftSwiGluGrad: silu(gate)·up and the gradient of one input (attrs.which:
// 'gate' | 'up') in one pass each (native/swiglu.c).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, type Ins, output, size } from './util.js';

export const PEFT_SWIGLU = 'PeftSwiGlu';
export const PEFT_SWIGLU_GRAD = 'PeftSwiGluGrad';

const swiglu: KernelFunc = (args) => {
  const { gate, up } = args.inputs as Ins;
  const n = size(gate.shape);
  const y = allocF32(args.backend, n);
  addonOf(args.backend).swiglu(f32(args.backend, gate), f32(args.backend, up), y, n);
  return output(args.backend, gate.shape, 'float32', y);
};

const swigluGrad: KernelFunc = (args) => {
  const { gate, up, dy } = args.inputs as Ins;
  const { which } = args.attrs as { which: 'gate' | 'up' };
  const n = size(gate.shape);
  const out = allocF32(args.backend, n);
  addonOf(args.backend).swigluGrad(which === 'gate' ? 0 : 1, f32(args.backend, gate), f32(args.backend, up), f32(args.backend, dy), out, n);
  return output(args.backend, gate.shape, 'float32', out);
};

export const peftSwiGluConfig: KernelConfig = { kernelName: PEFT_SWIGLU, backendName: 'native', kernelFunc: swiglu };
export const peftSwiGluGradConfig: KernelConfig = { kernelName: PEFT_SWIGLU_GRAD, backendName: 'native', kernelFunc: swigluGrad };
