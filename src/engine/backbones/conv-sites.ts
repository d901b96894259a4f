// Site tables of convolutional backbones: every convolution is a `conv.*` site keyed by its module
// path (where Python peft puts a Conv2d LoRA's lora_A / lora_B), a dense layer outside attention
// a `dense` site, and each residual block's output a `block.output` site. x and h are
// channels-last, so a module over channels is an op on the last axis there as at a linear layer.
import type { Conv2d } from '../nn/conv.js';
import type { SiteInfo } from './types.js';

type Stack = SiteInfo['stack'];

/** `conv.pointwise` (1×1), `conv.depthwise` or `conv.spatial` (k×k) at the convolution's path. */
export function convSite(path: string, conv: Conv2d, stack: Stack, layer: number): SiteInfo {
  const stride = Math.max(...conv.stride);
  return {
    path, stack, layer, position: `conv.${conv.kind}`, kind: 'conv', inDim: conv.inChannels, outDim: conv.outChannels,
    conv: { kernel: conv.kernel, stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups },
    ...(stride > 1 ? { stride } : {}),
  };
}

/** A dense (fully connected) layer of a non-transformer backbone. */
export function denseSite(path: string, inDim: number, outDim: number, stack: Stack, layer: number): SiteInfo {
  return { path, stack, layer, position: 'dense', kind: 'linear', inDim, outDim };
}

/** A residual block's output; `stride` > 1 when the block downsamples (then x cannot feed a parallel module). */
export function residualBlockSite(path: string, stack: Stack, layer: number, inDim: number, outDim: number, stride = 1): SiteInfo {
  return {
    path: `${path}.output`, stack, layer, position: 'block.output', kind: 'sublayer', inDim, outDim,
    ...(stride > 1 ? { stride } : {}),
  };
}
