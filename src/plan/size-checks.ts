// A module's sizes against the backbone's real dimensions, before anything is allocated: a rank
// larger than the projection it adapts, an adapter far wider than the model, virtual tokens that
// do not fit the model's positions. The schema bounds every size; these bounds are the model's.
import type { ModulePlan } from './types.js';
import { parsePosition } from './positions.js';
import { siteDims, type ModelSizes } from './model-config.js';

export interface SizeProblem {
  key: string;
  message: string;
  hint: string;
}

/** An adapter (or a prefix MLP) may be at most this many times wider than the hidden size. */
export const MAX_WIDTH_FACTOR = 16;

/** Problems of one module's sizes; `maxLength` is data.max_length (tokens a row may have). */
export function sizeProblems(m: Pick<ModulePlan, 'function' | 'options' | 'positions'>, sizes: ModelSizes, maxLength: number): SizeProblem[] {
  const out: SizeProblem[] = [];
  const o = m.options as Record<string, unknown>;
  // a rank above the projection's width adds nothing to a learned A/B pair; VeRA's shared random
  // bases, NOLA's combinations, LoLDU's and the other factorizations use ranks above it by design
  const learnedPair = m.function !== 'lowrank' || ((o.basis ?? 'learned') === 'learned' && (o.factorization ?? 'ab') === 'ab');
  if ((m.function === 'lowrank' || m.function === 'hadamard' || m.function === 'svd') && typeof o.rank === 'number' && learnedPair) {
    let smallest: { at: string; n: number } | null = null;
    for (const p of m.positions) {
      const parsed = parsePosition(p);
      const d = parsed ? siteDims(parsed.role, sizes) : null;
      if (d && (smallest === null || Math.min(d.in, d.out) < smallest.n)) smallest = { at: p, n: Math.min(d.in, d.out) };
    }
    if (smallest && o.rank > smallest.n) {
      out.push({
        key: 'rank',
        message: `rank ${o.rank} is larger than the projection it adapts at ${smallest.at} (${smallest.n} wide)`,
        hint: `a rank above ${smallest.n} adds parameters and no expressive power: use at most ${smallest.n}`,
      });
    }
  }
  const h = sizes.hidden;
  for (const [key, value] of [['bottleneck', o.bottleneck], ['reparam', (o.reparam as { hidden?: number } | null | undefined)?.hidden]] as const) {
    if (h !== null && typeof value === 'number' && value > MAX_WIDTH_FACTOR * h) {
      out.push({
        key,
        message: `${key === 'reparam' ? 'reparam.hidden' : key} ${value} is more than ${MAX_WIDTH_FACTOR}× the model's hidden size ${h}`,
        hint: `use at most ${MAX_WIDTH_FACTOR * h} (adapters are usually narrower than the hidden size)`,
      });
    }
  }
  const n = sizes.maxPositions;
  const key = sizes.positionsKey ?? 'max_position_embeddings';
  if (n !== null && typeof o.length === 'number') {
    if (m.function === 'prompt' && o.length + maxLength > n) {
      out.push({
        key: 'length',
        message: `${o.length} prompt tokens before up to ${maxLength} text tokens need ${o.length + maxLength} positions; the model has ${n} (${key})`,
        hint: `lower length or data.max_length so that they add up to at most ${n}`,
      });
    } else if (m.function === 'prefix' && o.shift_positions === true && o.length + maxLength > n) {
      out.push({
        key: 'length',
        message: `with shift_positions the ${o.length} prefix positions come before up to ${maxLength} tokens: ${o.length + maxLength} positions; the model has ${n} (${key})`,
        hint: `lower length or data.max_length so that they add up to at most ${n}, or set shift_positions: false`,
      });
    } else if (m.function === 'prefix' && o.length > n) {
      out.push({
        key: 'length',
        message: `a prefix of ${o.length} vectors is longer than the model's ${n} positions (${key})`,
        hint: `use at most ${n}`,
      });
    }
  }
  return out;
}
