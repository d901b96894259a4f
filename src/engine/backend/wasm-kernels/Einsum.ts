// Einsum for the wasm backend (tfjs-backend-wasm 4.22 has none). Composed of the wasm
// backend's own Transpose, Reshape, Multiply and Sum kernels along the contraction path that
// tfjs-core's backend_util plans: each operand is permuted and expanded to the full index set,
// multiplied into the running product, and the indices summed at each step are reduced away.
import { backend_util, Einsum, getKernel, type EinsumAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

function wasmKernel(name: string): KernelFunc {
  const k = getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
  return k.kernelFunc;
}

const einsum: KernelFunc = (args) => {
  const { backend } = args;
  const { equation } = args.attrs as unknown as EinsumAttrs;
  const operands = args.inputs as unknown as TensorInfo[];
  const call = (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}) =>
    wasmKernel(name)({ inputs, backend, attrs: attrs as never }) as TensorInfo;
  const dispose = (t: TensorInfo) => (backend as unknown as { disposeData(id: object): boolean }).disposeData(t.dataId);

  const { allDims, summedDims, idDims } = backend_util.decodeEinsumEquation(equation, operands.length);
  backend_util.checkEinsumDimSizes(allDims.length, idDims, operands as never);
  const { path, steps } = backend_util.getEinsumComputePath(summedDims, idDims);
  const temporaries: TensorInfo[] = [];
  let product: TensorInfo | null = null;
  let rank = allDims.length;
  steps.forEach((step, i) => {
    for (const term of step) {
      const { permutationIndices, expandDims } = backend_util.getEinsumPermutation(rank, idDims[term]);
      let x = operands[term];
      if (!backend_util.isIdentityPermutation(permutationIndices)) {
        x = call('Transpose', { x }, { perm: permutationIndices });
        temporaries.push(x);
      }
      const shape = x.shape.slice();
      for (const d of expandDims) shape.splice(d, 0, 1);
      if (shape.join() !== x.shape.join()) {
        x = call('Reshape', { x }, { shape });
        temporaries.push(x);
      }
      if (product === null) {
        product = x;
      } else {
        product = call('Multiply', { a: x, b: product });
        temporaries.push(product);
      }
    }
    if (i < steps.length - 1) {
      if (path[i] >= 0 && product !== null) {
        product = call('Sum', { x: product }, { axis: path[i] - (allDims.length - rank), keepDims: false });
        temporaries.push(product);
      }
      rank--;
    }
  });
  const result = product as TensorInfo | null;
  if (result === null) throw new Error(`einsum ${equation}: nothing to compute`);
  // The result must outlive the temporaries; an input passed through unchanged is copied.
  const out = operands.includes(result) ? call('Identity', { x: result }) : result;
  for (const t of temporaries) if (t !== out) dispose(t);
  return out;
};

export const einsumConfig: KernelConfig = { kernelName: Einsum, backendName: 'wasm', kernelFunc: einsum };
