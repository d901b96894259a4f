// Elementwise unary kernels on the addon (native/unary.c). float32 only; other dtypes go to
// the cpu kernel of the same name.
import type { KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, f32, type Ins, output, size } from './util.js';

/** Op codes of native/unary.c. */
export const UNARY_OP = {
  exp: 0, log: 1, tanh: 2, sigmoid: 3, sqrt: 4, rsqrt: 5, square: 6, neg: 7, abs: 8, relu: 9, erf: 10,
  softplus: 11, reciprocal: 12, step: 13, relu6: 14, leakyrelu: 15, elu: 16, log1p: 17, expm1: 18, clip: 19,
} as const;

/** A kernel config computing `op`; `params` reads alpha/beta from the attrs. */
export function unaryKernel(kernelName: string, op: number, params?: (attrs: NamedAttrMap) => [number, number]): KernelConfig {
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
