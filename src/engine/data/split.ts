// Seeded splits of one file: `split: {of: train, fraction: 0.1, part: tail}` takes a random 10% of
// the rows of train's file, the same 10% for the same seed, and `part: head` takes the rest. The
// rows are chosen by selection sampling (Knuth's Algorithm S) over the rows in file order: exactly
// round(fraction × N) of the N rows, one uniform draw per row, O(1) memory, file order kept.
// Think of it as the tail of a seeded shuffle: head(f) and tail(1 − f) partition the file.

import type { DataPlan, DataSplitPlan } from '../../plan/index.js';
import { PeftError } from '../../errors.js';
import { Rng } from './rng.js';

export type SplitSpec = NonNullable<DataSplitPlan['split']>;

/** The stream of the seed used for split selection (data order uses another one). */
export const SPLIT_STREAM = 0x5b117;

/** Fractions are compared on a 1e-9 grid, so 1 − 0.9 selects exactly as 0.1 does. */
function snap(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** How many of `total` rows form the tail of a split with this spec (the rest form the head). */
export function tailCount(spec: SplitSpec, total: number): number {
  const tailFraction = spec.part === 'tail' ? snap(spec.fraction) : snap(1 - spec.fraction);
  return Math.min(total, Math.max(0, Math.round(tailFraction * total)));
}

/** Rows in the split: the part's share of `total`. */
export function splitCount(spec: SplitSpec, total: number): number {
  const tail = tailCount(spec, total);
  return spec.part === 'tail' ? tail : total - tail;
}

/** Decides, row by row in file order, whether a row belongs to the split. */
export class SplitSelector {
  private readonly rng: Rng;
  private readonly k: number;
  private seen = 0;
  private taken = 0;

  constructor(
    private readonly spec: SplitSpec,
    private readonly total: number,
    seed: number,
  ) {
    if (!(spec.fraction >= 0 && spec.fraction <= 1)) throw new Error(`split fraction must be in [0, 1] (got ${spec.fraction})`);
    this.rng = Rng.fromSeed(seed, SPLIT_STREAM);
    this.k = tailCount(spec, total);
  }

  /** Call once per source row, in order (bad rows included, so a row's membership never depends on the policy). */
  accept(): boolean {
    if (this.seen >= this.total) {
      throw new Error(`split selector asked about row ${this.seen + 1} of a file counted as ${this.total} rows (the file changed?)`);
    }
    const remaining = this.total - this.seen;
    const inTail = remaining * this.rng.nextFloat() < this.k - this.taken;
    if (inTail) this.taken++;
    this.seen++;
    return this.spec.part === 'tail' ? inTail : !inTail;
  }
}

type SplitName = 'train' | 'validation' | 'test';
const NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

/**
 * The splits as they are read. A split that takes part of another split's file (`of: train`)
 * without a path of its own reads that split's file (path and format). When the other split
 * takes its whole file, it gets the complementary part, so the two never share a row:
 * validation {of: train, fraction: 0.1, part: tail} makes train {fraction: 0.9, part: head}.
 */
export function resolveSplits(data: Pick<DataPlan, SplitName>): Record<SplitName, DataSplitPlan | null> {
  const out: Record<SplitName, DataSplitPlan | null> = { train: data.train, validation: data.validation, test: data.test };
  const takers = new Map<SplitName, SplitName[]>();
  for (const name of NAMES) {
    const s = data[name];
    if (s?.split == null) continue;
    const of = s.split.of as SplitName;
    if (!NAMES.includes(of)) {
      throw new PeftError('RECIPE', `data.${name}.split.of names "${s.split.of}", not a split (train, validation, test)`);
    }
    if (of === name) continue; // a split that takes part of its own file
    const source = data[of];
    if (source == null) {
      throw new PeftError('RECIPE', `data.${name}.split takes part of ${of}, but there is no data.${of}`, { hint: `name the ${of} file, or split another one` });
    }
    if (s.path === '') {
      out[name] = { ...s, path: source.path, format: source.format };
      const columns = s.columns ?? source.columns; // the same file: the same columns
      if (columns) out[name] = { ...out[name], columns };
    }
    else if (s.path !== source.path) continue; // a file of its own: nothing is shared
    takers.set(of, [...(takers.get(of) ?? []), name]);
  }
  for (const [of, names] of takers) {
    const source = data[of];
    if (source == null || source.split != null) continue;
    if (names.length > 1) {
      throw new PeftError('RECIPE', `data.${names.join(' and data.')} both take part of ${of}'s file, which can be split in two only`, {
        hint: `give ${of} its own split (e.g. {fraction: 0.8, part: head}) and use distinct files for the others`,
      });
    }
    const taker = data[names[0] as SplitName] as DataSplitPlan;
    const spec = taker.split as SplitSpec;
    out[of] = { ...source, split: { of, fraction: snap(1 - spec.fraction), part: spec.part === 'tail' ? 'head' : 'tail' } };
  }
  return out;
}
