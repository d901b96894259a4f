// Broadcasting binary kernels on the addon (native/binary.c), registered from two tables: tfjs
// kernel name → the addon's op code, for arithmetic (`binary`, float32 output) and comparisons
// (`compare`, bool output). float32 inputs only; anything else (int32, bool, complex, rank > 8)
// goes to the cpu kernel of the same name.
import {
  Add, Equal, Greater, GreaterEqual, Less, LessEqual, Maximum, Minimum, Multiply, NotEqual, Pow, Prelu, RealDiv,
  SquaredDifference, Sub,
  backend_util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addonOf, alloc, cpuKernel, f32, type Ins, MAX_RANK, output, size } from './util.js';

/** Op codes of `binary` in native/binary.c. */
const OP = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, sqdiff: 6, pow: 7, prelu: 8 } as const;
/** Op codes of `compare` in native/binary.c. */
const COMPARE_OP = { equal: 0, notEqual: 1, less: 2, lessEqual: 3, greater: 4, greaterEqual: 5 } as const;

/** Input names, when they are not `a`, `b`. */
type Names = [string, string];

const BINARY: readonly [kernelName: string, op: number, names?: Names][] = [
  [Add, OP.add],
  [Maximum, OP.max],
  [Minimum, OP.min],
  [Multiply, OP.mul],
  [Pow, OP.pow],
  [Prelu, OP.prelu, ['x', 'alpha']],
  [RealDiv, OP.div],
  [SquaredDifference, OP.sqdiff],
  [Sub, OP.sub],
];

const COMPARE: readonly [kernelName: string, op: number][] = [
  [Equal, COMPARE_OP.equal],
  [Greater, COMPARE_OP.greater],
  [GreaterEqual, COMPARE_OP.greaterEqual],
  [Less, COMPARE_OP.less],
  [LessEqual, COMPARE_OP.lessEqual],
  [NotEqual, COMPARE_OP.notEqual],
];

function fits(a: TensorInfo, b: TensorInfo): boolean {
  return a.dtype === 'float32' && b.dtype === 'float32' && a.shape.length <= MAX_RANK && b.shape.length <= MAX_RANK;
}

/** A kernel config computing `op` on inputs named `names` (default a, b). */
function binaryKernel(kernelName: string, op: number, names: Names = ['a', 'b']): KernelConfig {
  const fallback: KernelFunc = (args) => cpuKernel(kernelName)(args);
  const kernelFunc: KernelFunc = (args) => {
    const a = (args.inputs as Ins)[names[0]];
    const b = (args.inputs as Ins)[names[1]];
    if (!fits(a, b)) return fallback(args);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = alloc(args.backend, size(shape), 'float32') as Float32Array;
    addonOf(args.backend).binary(op, f32(args.backend, a), a.shape, f32(args.backend, b), b.shape, out);
    return output(args.backend, shape, 'float32', out);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

/** A comparison kernel config: float32 inputs, bool output. */
function compareKernel(kernelName: string, op: number): KernelConfig {
  const fallback: KernelFunc = (args) => cpuKernel(kernelName)(args);
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as Ins;
    if (!fits(a, b)) return fallback(args);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = alloc(args.backend, size(shape), 'bool') as Uint8Array;
    addonOf(args.backend).compare(op, f32(args.backend, a), a.shape, f32(args.backend, b), b.shape, out);
    return output(args.backend, shape, 'bool', out);
  };
  return { kernelName, backendName: 'native', kernelFunc };
}

export const binaryConfigs: readonly KernelConfig[] = [
  ...BINARY.map(([name, op, names]) => binaryKernel(name, op, names)),
  ...COMPARE.map(([name, op]) => compareKernel(name, op)),
];
