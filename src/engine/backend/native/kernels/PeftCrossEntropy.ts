// PeftCrossEntropy / PeftCrossEntropyGrad: each row's negative log-likelihood of its label,
// logsumexp(x) − x[y], and the gradient g·(softmax(x) − onehot(y)), one pass each
// (native/cross_entropy.c).
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, i32, type Ins, output } from './util.js';

export const PEFT_CROSS_ENTROPY = 'PeftCrossEntropy';
export const PEFT_CROSS_ENTROPY_GRAD = 'PeftCrossEntropyGrad';

const crossEntropy: KernelFunc = (args) => {
  const { logits, labels } = args.inputs as Ins;
  const [N, C] = logits.shape as [number, number];
  const nll = allocF32(args.backend, N);
  addonOf(args.backend).crossEntropy(f32(args.backend, logits), i32(args.backend, labels), nll, N, C);
  return output(args.backend, [N], 'float32', nll);
};

const crossEntropyGrad: KernelFunc = (args) => {
  const { logits, labels, dy } = args.inputs as Ins;
  const [N, C] = logits.shape as [number, number];
  const dx = allocF32(args.backend, N * C);
  addonOf(args.backend).crossEntropyGrad(f32(args.backend, logits), i32(args.backend, labels), f32(args.backend, dy), dx, N, C);
  return output(args.backend, [N, C], 'float32', dx);
};

export const peftCrossEntropyConfig: KernelConfig = { kernelName: PEFT_CROSS_ENTROPY, backendName: 'native', kernelFunc: crossEntropy };
export const peftCrossEntropyGradConfig: KernelConfig = { kernelName: PEFT_CROSS_ENTROPY_GRAD, backendName: 'native', kernelFunc: crossEntropyGrad };
