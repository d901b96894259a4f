// PeftAttention / PeftAttentionGrad: fused scaled-dot-product attention (native/attention.c).
// Inputs q [B,T,H·d], k, v [B,S,Hkv·d], optional additive mask [mB,1,mT,S] and rotary tables
// cos, sin [T,d]; attrs heads, kvHeads, scale. Outputs [out [B,T,H·d], stats [B,H,T,2]] (each
// row's max score and sum of exponentials, for the backward). The gradient
// kernel takes the same inputs plus stats and dout, and gives [dq, dk, dv].
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { addonOf, allocF32, f32, output, size } from './util.js';

export const PEFT_ATTENTION = 'PeftAttention';
export const PEFT_ATTENTION_GRAD = 'PeftAttentionGrad';

interface AttentionIns {
  q: TensorInfo;
  k: TensorInfo;
  v: TensorInfo;
  mask?: TensorInfo;
  cos?: TensorInfo;
  sin?: TensorInfo;
}

interface AttentionAttrs {
  heads: number;
  kvHeads: number;
  scale: number;
}

function dims(ins: AttentionIns, attrs: AttentionAttrs): number[] {
  const [B, T, HD] = ins.q.shape;
  const S = ins.k.shape[1];
  return [B, T, S, attrs.heads, attrs.kvHeads, HD / attrs.heads];
}

function common(backend: unknown, ins: AttentionIns) {
  return {
    mask: ins.mask ? f32(backend, ins.mask) : null,
    maskDims: ins.mask ? [ins.mask.shape[0], ins.mask.shape[2]] : [1, 1],
    cos: ins.cos ? f32(backend, ins.cos) : null,
    sin: ins.sin ? f32(backend, ins.sin) : null,
  };
}

const attention: KernelFunc = (args) => {
  const ins = args.inputs as unknown as AttentionIns;
  const attrs = args.attrs as unknown as AttentionAttrs;
  const b = args.backend;
  const [B, T, , H] = dims(ins, attrs);
  const out = allocF32(b, size(ins.q.shape));
  const stats = allocF32(b, 2 * B * H * T);
  const c = common(b, ins);
  addonOf(b).attention(f32(b, ins.q), f32(b, ins.k), f32(b, ins.v), c.mask, c.maskDims, c.cos, c.sin, out, stats, dims(ins, attrs), attrs.scale);
  return [output(b, ins.q.shape, 'float32', out), output(b, [B, H, T, 2], 'float32', stats)];
};

const attentionGrad: KernelFunc = (args) => {
  const ins = args.inputs as unknown as AttentionIns & { stats: TensorInfo; dout: TensorInfo };
  const attrs = args.attrs as unknown as AttentionAttrs;
  const b = args.backend;
  const dq = allocF32(b, size(ins.q.shape));
  const dk = allocF32(b, size(ins.k.shape));
  const dv = allocF32(b, size(ins.v.shape));
  const c = common(b, ins);
  addonOf(b).attentionGrad(
    f32(b, ins.q), f32(b, ins.k), f32(b, ins.v), c.mask, c.maskDims, c.cos, c.sin, f32(b, ins.stats), f32(b, ins.dout), dq, dk, dv,
    dims(ins, attrs), attrs.scale,
  );
  return [output(b, ins.q.shape, 'float32', dq), output(b, ins.k.shape, 'float32', dk), output(b, ins.v.shape, 'float32', dv)];
};

export const peftAttentionConfig: KernelConfig = { kernelName: PEFT_ATTENTION, backendName: 'native', kernelFunc: attention };
export const peftAttentionGradConfig: KernelConfig = { kernelName: PEFT_ATTENTION_GRAD, backendName: 'native', kernelFunc: attentionGrad };
