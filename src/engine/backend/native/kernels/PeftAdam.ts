// PeftAdam: one parameter's Adam/AdamW update in one pass (native/adam.c), outputs [p, m, v].
// Inputs p, g and (after the first step) m, v; attrs.consts: the float32 scalars of the update.
// PeftSumSquares: Σx² of each input (a list, as AddN takes it) → [n] (gradient-norm clipping).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, output, size } from './util.js';

export const PEFT_ADAM = 'PeftAdam';
export const PEFT_SUM_SQUARES = 'PeftSumSquares';

const adam: KernelFunc = (args) => {
  const { p, g, m, v } = args.inputs as { p: TensorInfo; g: TensorInfo; m?: TensorInfo; v?: TensorInfo };
  const { consts } = args.attrs as { consts: number[] };
  const be = args.backend;
  const n = size(p.shape);
  const po = allocF32(be, n);
  const mo = allocF32(be, n);
  const vo = allocF32(be, n);
  addonOf(be).adam(f32(be, p), f32(be, g), m ? f32(be, m) : null, v ? f32(be, v) : null, po, mo, vo, n, Float32Array.from(consts));
  return [output(be, p.shape, 'float32', po), output(be, p.shape, 'float32', mo), output(be, p.shape, 'float32', vo)];
};

const sumSquares: KernelFunc = (args) => {
  const xs = Object.values(args.inputs) as TensorInfo[];
  const out = allocF32(args.backend, xs.length);
  addonOf(args.backend).sumSquares(xs.map((x) => f32(args.backend, x)), out);
  return output(args.backend, [xs.length], 'float32', out);
};

export const peftAdamConfig: KernelConfig = { kernelName: PEFT_ADAM, backendName: 'native', kernelFunc: adam };
export const peftSumSquaresConfig: KernelConfig = { kernelName: PEFT_SUM_SQUARES, backendName: 'native', kernelFunc: sumSquares };
