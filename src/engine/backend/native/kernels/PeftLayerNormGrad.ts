// PeftLayerNormGrad: the gradients of LayerNorm for x, gamma and beta in one pass per row
// (native/fused.c). Outputs [dx, dgamma, dbeta].
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, type Ins, output, size } from './util.js';

export const PEFT_LAYER_NORM_GRAD = 'PeftLayerNormGrad';

const layerNormGrad: KernelFunc = (args) => {
  const { x, gamma, dy, mean, rstd } = args.inputs as Ins;
  const cols = x.shape[x.shape.length - 1];
  const rows = cols === 0 ? 0 : size(x.shape) / cols;
  const dx = allocF32(args.backend, size(x.shape));
  const dgamma = allocF32(args.backend, cols);
  const dbeta = allocF32(args.backend, cols);
  if (rows > 0) {
    addonOf(args.backend).layerNormGrad(
      f32(args.backend, x), f32(args.backend, gamma), f32(args.backend, dy), f32(args.backend, mean), f32(args.backend, rstd),
      dx, dgamma, dbeta, rows, cols,
    );
  } else {
    dgamma.fill(0);
    dbeta.fill(0);
  }
  return [output(args.backend, x.shape, 'float32', dx), output(args.backend, [cols], 'float32', dgamma), output(args.backend, [cols], 'float32', dbeta)];
};

export const peftLayerNormGradConfig: KernelConfig = {
  kernelName: PEFT_LAYER_NORM_GRAD,
  backendName: 'native',
  kernelFunc: layerNormGrad,
};
