// Truncation and padding of token id rows: pure functions, as transformers / tokenizers do them.
import type { Side } from './types.js';

/** Cuts `ids` to `max` tokens, removing from the end ('right') or the start ('left'). */
export function truncateIds(ids: readonly number[], max: number, side: Side): number[] {
  if (ids.length <= max) return [...ids];
  const keep = Math.max(0, max);
  return side === 'right' ? ids.slice(0, keep) : ids.slice(ids.length - keep);
}

/**
 * Lengths that a pair (n1, n2) is cut to so that n1 + n2 ≤ max, 'longest_first': the longer
 * sequence gives up tokens until both are equal, then both shrink (the first gets the odd one
 * less), exactly as the Rust tokenizers library computes it.
 */
export function pairLengths(n1: number, n2: number, max: number): [number, number] {
  if (n1 + n2 <= max) return [n1, n2];
  const swap = n1 > n2;
  let small = swap ? n2 : n1;
  let large = swap ? n1 : n2;
  large = small > max ? small : Math.max(small, max - small);
  if (small + large > max) {
    small = Math.floor(max / 2);
    large = small + (max % 2);
  }
  return swap ? [large, small] : [small, large];
}

export interface PaddedRows {
  rows: number[][];
  mask: number[][];
  types?: number[][];
}

/** Pads every row to `length` with `padId` (mask 0, type id 0) on `side`. */
export function padRows(rows: readonly number[][], types: readonly number[][] | undefined, length: number, padId: number, side: Side): PaddedRows {
  const out: PaddedRows = { rows: [], mask: [], types: types ? [] : undefined };
  rows.forEach((row, i) => {
    const n = Math.max(0, length - row.length);
    const pad = (v: number) => new Array<number>(n).fill(v);
    const ones = new Array<number>(row.length).fill(1);
    const join = (body: readonly number[], filler: number[]) => (side === 'right' ? [...body, ...filler] : [...filler, ...body]);
    out.rows.push(join(row, pad(padId)));
    out.mask.push(join(ones, pad(0)));
    if (types && out.types) out.types.push(join(types[i], pad(0)));
  });
  return out;
}
