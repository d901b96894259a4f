// The rules of `lowrank` at convolutions and of its Tucker factorization (FLoRA), kept apart from
// the LoRA table entry (lowrank.ts) that uses them.
import type { ModuleShape } from './spec.js';

interface FactorOptions {
  dora: boolean;
  factorization: 'ab' | 'tucker';
  core_ranks?: number[];
}

const isConv = (role: string) => role === 'conv' || role.startsWith('conv.');

/** Why a low-rank update cannot go at this convolution role (null: it can, or it is not one). */
export function convMisfit(role: string, o: FactorOptions): string | null {
  if (!isConv(role)) return null;
  if (role === 'conv.depthwise') {
    return 'a depthwise convolution has one filter per channel, no channel-mixing weight to factor: use conv.pointwise or conv.spatial, or a scaling or bias there';
  }
  if (o.dora) return 'DoRA rescales a projection\'s weight rows; at convolutions use lowrank without dora';
  return null;
}

/** Cross-option rules: the Tucker core's ranks, DoRA, and the insertion a kernel update needs. */
export function checkFactorization(o: FactorOptions, m: ModuleShape): { key: string; message: string; hint?: string }[] {
  const out: { key: string; message: string; hint?: string }[] = [];
  if (o.core_ranks !== undefined && o.factorization !== 'tucker') {
    out.push({ key: 'core_ranks', message: 'core_ranks only applies to factorization: tucker' });
  }
  if (o.factorization === 'tucker' && o.dora) out.push({ key: 'dora', message: 'DoRA and the Tucker factorization do not combine' });
  if (m.insertion !== 'parallel' && m.positions.some((p) => isConv(p.replace(/^(text|vision)\./, '')))) {
    out.push({ key: 'insertion', message: 'a low-rank update of a convolution kernel reads the convolution\'s input: it needs insertion: parallel' });
  }
  return out;
}
