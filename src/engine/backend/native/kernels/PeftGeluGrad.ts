// PeftGeluGrad: dx = dy · GELU'(x) in one pass (native/fused.c).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, type Ins, output, size } from './util.js';

export const PEFT_GELU_GRAD = 'PeftGeluGrad';

const geluGrad: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Ins;
  const mode = (args.attrs as { approximate?: string }).approximate === 'none' ? 1 : 0;
  const out = allocF32(args.backend, size(x.shape));
  addonOf(args.backend).geluGrad(mode, f32(args.backend, x), f32(args.backend, dy), out);
  return output(args.backend, x.shape, 'float32', out);
};

export const peftGeluGradConfig: KernelConfig = { kernelName: PEFT_GELU_GRAD, backendName: 'native', kernelFunc: geluGrad };
