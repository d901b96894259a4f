// FloorDiv for the wasm backend, giving int32 as the cpu (and webgl) backends do:
// tfjs-backend-wasm 4.22's own kernel returns float32, so a result used as indices (gather)
// would fail on wasm alone. Wraps wasm's kernel (keeping its setupFunc, which binds the wasm
// function when the backend starts) and casts its output.
import { getKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

/** Built on the kernel config wasm registered. */
export function floorDivConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const y = original.kernelFunc(args) as TensorInfo;
    if (y.dtype === 'int32') return y;
    const cast = getKernel('Cast', 'wasm')!.kernelFunc;
    const z = cast({ inputs: { x: y }, backend: args.backend, attrs: { dtype: 'int32' } }) as TensorInfo;
    (args.backend as unknown as { disposeData(id: object): boolean }).disposeData(y.dataId);
    return z;
  };
  return { ...original, kernelFunc };
}
