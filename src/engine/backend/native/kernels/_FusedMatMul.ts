// _FusedMatMul (tf.fused.matMul): sgemm with the bias and the activation applied in the same
// pass when the bias is a row, a scalar or one [m, n] matrix; otherwise the product is made by
// sgemm and the rest by the native Add / Prelu / activation kernels.
import {
  _FusedMatMul, Add, Prelu, type _FusedMatMulAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { ACTIVATIONS, matmulShapes, nativeMatMul } from './matmul_impl.js';
import { cpuKernel, MAX_RANK, nativeKernel, size } from './util.js';

/** How native/gemm.c can add this bias, or 0 when it cannot. */
function biasMode(bias: TensorInfo, m: number, n: number): number {
  const s = bias.shape;
  const lead = (k: number) => s.slice(0, s.length - k).every((d) => d === 1);
  if (size(s) === 1) return 2;
  if (s.length >= 1 && s[s.length - 1] === n && lead(1)) return 1;
  if (s.length >= 2 && s[s.length - 1] === n && s[s.length - 2] === m && lead(2)) return 3;
  return 0;
}

const fusedMatMul: KernelFunc = (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as _FusedMatMulAttrs;
  const backend = args.backend;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2 ||
    a.shape.length > MAX_RANK || b.shape.length > MAX_RANK) {
    return cpuKernel(_FusedMatMul)(args);
  }
  const { m, n, batch } = matmulShapes(a, b, transposeA, transposeB);
  const act = ACTIVATIONS[activation ?? 'linear'];
  const mode = bias ? biasMode(bias, m, n) : 0;
  // A bias that broadcasts over the batch dims differently (rank above the output) goes via Add.
  const biasFits = !bias || (mode !== 0 && bias.shape.length <= batch.length + 2);
  if (act !== undefined && biasFits) {
    return nativeMatMul(backend, a, b, transposeA, transposeB, { bias, biasMode: mode, act, alpha: leakyreluAlpha ?? 0.2 });
  }
  let y = nativeMatMul(backend, a, b, transposeA, transposeB);
  const dispose = (t: TensorInfo) => (backend as { disposeIntermediateTensorInfo(t: TensorInfo): void }).disposeIntermediateTensorInfo(t);
  if (bias) {
    const z = nativeKernel(Add)({ inputs: { a: y, b: bias }, backend, attrs: {} }) as TensorInfo;
    dispose(y);
    y = z;
  }
  if (activation === 'prelu' && preluActivationWeights) {
    const z = nativeKernel(Prelu)({ inputs: { x: y, alpha: preluActivationWeights }, backend, attrs: {} }) as TensorInfo;
    dispose(y);
    return z;
  }
  if (activation && activation !== 'linear') {
    const z = applyActivationNative(backend, y, activation, leakyreluAlpha);
    dispose(y);
    return z;
  }
  return y;
};

function applyActivationNative(backend: unknown, y: TensorInfo, activation: string, alpha?: number): TensorInfo {
  const names: Record<string, string> = { relu: 'Relu', relu6: 'Relu6', sigmoid: 'Sigmoid', elu: 'Elu', leakyrelu: 'LeakyRelu' };
  const name = names[activation];
  if (!name) throw new Error(`_FusedMatMul: unknown activation ${activation}`);
  return nativeKernel(name)({ inputs: { x: y }, backend: backend as never, attrs: name === 'LeakyRelu' ? { alpha: alpha ?? 0.2 } : {} }) as TensorInfo;
}

export const fusedMatMulConfig: KernelConfig = { kernelName: _FusedMatMul, backendName: 'native', kernelFunc: fusedMatMul };
