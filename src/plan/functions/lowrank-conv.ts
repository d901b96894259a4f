// The rules of `lowrank` at convolutions and of its Tucker factorization (FLoRA), kept apart from
// the LoRA table entry (lowrank.ts) that uses them.
import type { ModuleShape } from './spec.js';

interface FactorOptions {
  dora: boolean;
  factorization: string;
  basis: string;
  branches: string;
  experts: number | number[];
  rank_schedule: string;
  init?: string;
  orthogonal?: unknown;
  quantize_bits?: unknown;
}

const isConv = (role: string) => role === 'conv' || role.startsWith('conv.');

/** Why a low-rank update cannot go at this convolution role (null: it can, or it is not one). */
export function convMisfit(role: string, o: FactorOptions): string | null {
  if (!isConv(role)) return null;
  if (role === 'conv.depthwise') {
    return 'a depthwise convolution has one filter per channel, no channel-mixing weight to factor: use conv.pointwise or conv.spatial, or a scaling or bias there';
  }
  if (o.dora) return 'DoRA rescales a projection\'s weight rows; at convolutions use lowrank without dora';
  // at a kernel: LoRA's Conv2d pair or FLoRA's Tucker core; the rest of the family is for projections
  const projectionOnly = (o.factorization !== 'ab' && o.factorization !== 'tucker') || o.basis !== 'learned' || o.branches !== 'single'
    || o.experts !== 1 || o.rank_schedule !== 'fixed' || o.init === 'corda' || o.orthogonal || o.quantize_bits;
  if (projectionOnly) return 'at convolutions lowrank is LoRA (factorization: ab) or FLoRA (factorization: tucker); the other variants adapt projections';
  return null;
}

/** The insertion a kernel update needs (DoRA with Tucker is one of lowrank's combinations). */
export function checkFactorization(o: FactorOptions, m: ModuleShape): { key: string; message: string; hint?: string }[] {
  const out: { key: string; message: string; hint?: string }[] = [];
  if (m.insertion !== 'parallel' && m.positions.some((p) => isConv(p.replace(/^(text|vision)\./, '')))) {
    out.push({ key: 'insertion', message: 'a low-rank update of a convolution kernel reads the convolution\'s input: it needs insertion: parallel' });
  }
  return out;
}
