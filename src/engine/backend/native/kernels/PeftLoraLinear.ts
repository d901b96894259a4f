// PeftLoraLinear / PeftLoraGrad: y = x·W(ᵀ) + bias + s·(x·Aᵀ)·Bᵀ over the last axis of x, and the
// gradient of one of x, A, B (attrs.which: 'x' | 'a' | 'b'), each a few sgemm (native/lora.c).
// attrs: scale, transW (W is [out, in] as torch's Linear stores it; false: [in, out]).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, type Ins, output, size } from './util.js';

export const PEFT_LORA_LINEAR = 'PeftLoraLinear';
export const PEFT_LORA_GRAD = 'PeftLoraGrad';

interface LoraAttrs {
  scale: number;
  transW: boolean;
}

function dims(x: TensorInfo, a: TensorInfo, b: TensorInfo, transW: boolean): number[] {
  const inF = a.shape[1];
  return [size(x.shape) / inF, inF, b.shape[0], a.shape[0], transW ? 1 : 0];
}

const loraLinear: KernelFunc = (args) => {
  const { x, w, a, b, bias } = args.inputs as Ins & { bias?: TensorInfo };
  const { scale, transW } = args.attrs as unknown as LoraAttrs;
  const d = dims(x, a, b, transW);
  const shape = [...x.shape.slice(0, -1), d[2]];
  const y = allocF32(args.backend, size(shape));
  const be = args.backend;
  addonOf(be).loraLinear(f32(be, x), f32(be, w), bias ? f32(be, bias) : null, f32(be, a), f32(be, b), y, d, scale);
  return output(be, shape, 'float32', y);
};

const WHICH = { x: 0, a: 1, b: 2 } as const;

const loraGrad: KernelFunc = (args) => {
  const { x, w, a, b, dy } = args.inputs as Ins;
  const { scale, transW, which } = args.attrs as unknown as LoraAttrs & { which: keyof typeof WHICH };
  const shape = which === 'x' ? x.shape : which === 'a' ? a.shape : b.shape;
  const out = allocF32(args.backend, size(shape));
  const be = args.backend;
  addonOf(be).loraGrad(WHICH[which], f32(be, x), f32(be, w), f32(be, a), f32(be, b), f32(be, dy), out, dims(x, a, b, transW), scale);
  return output(be, shape, 'float32', out);
};

export const peftLoraLinearConfig: KernelConfig = { kernelName: PEFT_LORA_LINEAR, backendName: 'native', kernelFunc: loraLinear };
export const peftLoraGradConfig: KernelConfig = { kernelName: PEFT_LORA_GRAD, backendName: 'native', kernelFunc: loraGrad };
