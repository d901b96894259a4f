// Low-bit quantisation of adapter tensors after the precision-redundancy paper (Jie et al., ICCV
// 2023; their binary_adapter/utils.py QLinear): standardise by the mean and unbiased std, map each
// entry to the nearest level of the N(0, 1) median codebook, store the level indices, the mean
// and the std; decode as level·std + mean. Their code has one (mean, std) per weight matrix
// (`tensor`); `channel` — one per row (output channel of lora_B, rank row of lora_A) — is our
// extension, with no reference.
import { codebook, levelIndex } from './codebook.js';

export type Granularity = 'tensor' | 'channel';

export interface QuantizedTensor {
  /** Level index per entry (unpacked). */
  codes: Uint8Array;
  /** One per group (the whole tensor, or each row). */
  mean: Float32Array;
  std: Float32Array;
}

/** Rows of a tensor as the groups of per-channel quantisation (a vector is one group). */
export function groupsOf(shape: readonly number[], granularity: Granularity): number {
  return granularity === 'channel' && shape.length >= 2 ? shape[0] : 1;
}

/** Their standardisation's ε (utils.py:30): w_n = (W − μ) / (σ + 1e-5). */
const EPS = 1e-5;

export function quantizeTensor(data: Float32Array, shape: readonly number[], bits: number, granularity: Granularity): QuantizedTensor {
  const cb = codebook(bits);
  const groups = groupsOf(shape, granularity);
  const size = data.length / groups;
  const codes = new Uint8Array(data.length);
  const mean = new Float32Array(groups);
  const std = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const from = g * size;
    let mu = 0;
    for (let i = 0; i < size; i++) mu += data[from + i];
    mu /= size;
    let ss = 0;
    for (let i = 0; i < size; i++) ss += (data[from + i] - mu) ** 2;
    const sigma = size > 1 ? Math.sqrt(ss / (size - 1)) : 0;
    mean[g] = mu;
    std[g] = sigma;
    const m32 = mean[g];
    const s32 = Math.fround(std[g] + EPS);
    for (let i = 0; i < size; i++) codes[from + i] = levelIndex(cb, Math.fround(Math.fround(data[from + i] - m32) / s32));
  }
  return { codes, mean, std };
}

/** level[code]·std + mean, in float32 as their load() computes it. */
export function dequantizeTensor(q: QuantizedTensor, levels: Float32Array, count: number): Float32Array {
  const groups = q.mean.length;
  const size = count / groups;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const g = Math.floor(i / size);
    out[i] = Math.fround(levels[q.codes[i]] * q.std[g]) + q.mean[g];
  }
  return out;
}

/** The codebook's levels as stored (float32). */
export function storedLevels(bits: number): Float32Array {
  return Float32Array.from(codebook(bits).levels);
}
