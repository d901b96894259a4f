// Fused, differentiable ops for the model code: one kernel each (forward and backward) on the
// native backend, the same maths from plain tfjs ops on the others. Use them where the model
// would otherwise compose the op from many elementwise kernels.
//
//   import { gelu, layerNorm } from '../backend/index.js';
//   gelu(x, 'tanh');                      // gelu_new / gelu_pytorch_tanh; 'none' = exact (erf)
//   layerNorm(x, weight, bias, 1e-12);    // over the last axis, biased variance (torch)
export { gelu } from './gelu.js';
export { layerNorm } from './layer-norm.js';
