// Fused, differentiable ops for the model code: one kernel each (forward, and backward per input
// gradient) on the native backend, the same maths from plain tfjs ops on the others. Use them
// where the model would otherwise compose the op from many small kernels.
//
//   import { gelu, layerNorm } from '../backend/index.js';
//   gelu(x, 'tanh');                      // gelu_new / gelu_pytorch_tanh; 'none' = exact (erf)
//   layerNorm(x, weight, bias, 1e-12);    // over the last axis, biased variance (torch)
//   rmsNorm(x, weight, 1e-5);             // LLaMA / T5
//   swiglu(gate, up);                     // silu(gate)·up (LLaMA's MLP)
//   rowNll(logits, labels);               // −log softmax(logits)[label] per row (cross-entropy)
//   loraLinear(x, W, bias, A, B, s);      // x·Wᵀ + bias + s·(x·Aᵀ)·Bᵀ
//   attention(q, k, v, mask, {heads, kvHeads, scale, rotary});   // [B,T,H·d] in and out
//   adamUpdate(p, g, [m, v], step);       // one Adam/AdamW parameter update
//   sumSquares([g1, g2, …]);              // Σg² each (gradient clipping)
export { gelu } from './gelu.js';
export { layerNorm } from './layer-norm.js';
export { rmsNorm, rmsNormComposite } from './rms-norm.js';
export { swiglu, swigluComposite } from './swiglu.js';
export { rowNll, rowNllComposite } from './cross-entropy.js';
export { loraLinear, loraLinearAvailable, loraLinearComposite, type WeightLayout } from './lora-linear.js';
export { attention, attentionComposite, fusedAttentionAvailable, type FusedAttentionOptions } from './attention.js';
export { adamUpdate, adamComposite, type AdamStep } from './adam.js';
export { sumSquares } from './sum-squares.js';
