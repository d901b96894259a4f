// BatchMatMul for the wasm backend, routed to its fast path. tfjs-backend-wasm 4.22 runs a
// product on XNNPACK only when it is one 2-D matrix pair without transpose flags; a transposed
// one falls to a scalar loop (1-2 GFLOP/s against ~40 here), and tf.matMul's gradients use the
// transpose flags. So a transposed 2-D operand is transposed explicitly first (wasm's
// Transpose kernel, one memory pass) and the product runs untransposed. Batched products
// (attention) keep wasm's own loop. Results equal the original kernel's to float rounding.
import { getKernel, util, type BatchMatMulAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

type Backend = { disposeData(id: object): boolean };

function wasmCall(name: string, backend: unknown, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
  const k = getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as TensorInfo;
}

/** The perm swapping the last two axes. */
function swapLast(rank: number): number[] {
  const p = [...Array(rank).keys()];
  [p[rank - 2], p[rank - 1]] = [p[rank - 1], p[rank - 2]];
  return p;
}

export function batchMatMulConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as Record<string, TensorInfo>;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const backend = args.backend;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return original.kernelFunc(args);
    }
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    // Batched products (attention) stay on wasm's own loop: one XNNPACK product per batch
    // entry was 4-8× slower still (each new slice builds and packs a new XNNPACK operator).
    if (batchA !== 1 || batchB !== 1 || (!transposeA && !transposeB)) return original.kernelFunc(args);
    const temps: TensorInfo[] = [];
    const plain = (x: TensorInfo, transposed: boolean): TensorInfo => {
      if (!transposed) return x;
      const t = wasmCall('Transpose', backend, { x }, { perm: swapLast(x.shape.length) });
      temps.push(t);
      return t;
    };
    try {
      const untransposed = { ...args.attrs, transposeA: false, transposeB: false };
      return original.kernelFunc({ inputs: { a: plain(a, transposeA), b: plain(b, transposeB) }, backend, attrs: untransposed });
    } finally {
      temps.forEach((t) => (backend as unknown as Backend).disposeData(t.dataId));
    }
  };
  return { ...original, kernelFunc };
}
