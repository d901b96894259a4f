// PeftGelu: GELU in one pass (native/fused.c). A kernel of this project, not of tfjs: the op
// `gelu` in ../../fused uses it on the native backend (attrs.approximate: 'tanh' | 'none').
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, type Ins, output, size } from './util.js';

export const PEFT_GELU = 'PeftGelu';

const gelu: KernelFunc = (args) => {
  const { x } = args.inputs as Ins;
  const mode = (args.attrs as { approximate?: string }).approximate === 'none' ? 1 : 0;
  const out = allocF32(args.backend, size(x.shape));
  addonOf(args.backend).gelu(mode, f32(args.backend, x), out);
  return output(args.backend, x.shape, 'float32', out);
};

export const peftGeluConfig: KernelConfig = { kernelName: PEFT_GELU, backendName: 'native', kernelFunc: gelu };
