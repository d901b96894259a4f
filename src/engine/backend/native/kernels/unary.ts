// Elementwise unary kernels on the addon (native/unary.c), registered from one table: tfjs kernel
// name → the addon's op code (and, for the ops that take them, alpha and beta from the attrs).
// float32 only; other dtypes go to the cpu kernel of the same name.
import {
  Abs, ClipByValue, Elu, Erf, Exp, Expm1, LeakyRelu, Log, Log1p, Neg, Reciprocal, Relu, Relu6, Rsqrt, Sigmoid,
  Softplus, Sqrt, Square, Step, Tanh,
  type KernelConfig, type KernelFunc, type NamedAttrMap,
} from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, f32, type Ins, output, size } from './util.js';

/** Op codes of native/unary.c. */
const OP = {
  exp: 0, log: 1, tanh: 2, sigmoid: 3, sqrt: 4, rsqrt: 5, square: 6, neg: 7, abs: 8, relu: 9, erf: 10,
  softplus: 11, reciprocal: 12, step: 13, relu6: 14, leakyrelu: 15, elu: 16, log1p: 17, expm1: 18, clip: 19,
} as const;

/** alpha, beta of the op, read from the kernel's attrs. */
type Params = (attrs: NamedAttrMap) => [number, number];

const UNARY: readonly [kernelName: string, op: number, params?: Params][] = [
  [Abs, OP.abs],
  [ClipByValue, OP.clip, (attrs) => [Number(attrs.clipValueMin), Number(attrs.clipValueMax)]],
  [Elu, OP.elu],
  [Erf, OP.erf],
  [Exp, OP.exp],
  [Expm1, OP.expm1],
  [LeakyRelu, OP.leakyrelu, (attrs) => [Number(attrs.alpha ?? 0.2), 0]],
  [Log, OP.log],
  [Log1p, OP.log1p],
  [Neg, OP.neg],
  [Reciprocal, OP.reciprocal],
  [Relu, OP.relu],
  [Relu6, OP.relu6],
  [Rsqrt, OP.rsqrt],
  [Sigmoid, OP.sigmoid],
  [Softplus, OP.softplus],
  [Sqrt, OP.sqrt],
  [Square, OP.square],
  [Step, OP.step, (attrs) => [Number(attrs.alpha ?? 0), 0]],
  [Tanh, OP.tanh],
];

function unaryKernel(kernelName: string, op: number, params?: Params): KernelConfig {
  const fallback: KernelFunc = (args) => cpuKernel(kernelName)(args);
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as Ins;
    if (x.dtype !== 'float32') return fallback(args);
    const [alpha, beta] = params ? params(args.attrs ?? {}) : [0, 0];
    const out = alloc(args.backend, size(x.shape), 'float32') as Float32Array;
    addonOf(args.backend).unary(op, f32(args.backend, x), out, alpha, beta);
    return output(args.backend, x.shape, 'float32', out);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export const unaryConfigs: readonly KernelConfig[] = UNARY.map(([name, op, params]) => unaryKernel(name, op, params));
