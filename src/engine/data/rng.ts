// A small seeded PRNG: xoshiro128** 1.1 (Blackman & Vigna), seeded through splitmix64. Used for
// seeded splits of one file and for data order; its state is four 32-bit words, so a checkpoint
// saves it as plain JSON and a resumed run continues the exact same sequence.

export interface RngState {
  algorithm: 'xoshiro128**';
  /** The four state words, unsigned 32-bit integers, never all zero. */
  words: [number, number, number, number];
}

const MASK64 = (1n << 64n) - 1n;

/** splitmix64: the generator Vigna recommends for filling a xoshiro state from one seed. */
function splitmix64(x: bigint): { next: bigint; out: bigint } {
  const next = (x + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { next, out: z ^ (z >> 31n) };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(words: readonly number[]) {
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new Error('xoshiro128** state must not be all zero');
  }

  /**
   * A generator for `seed` (any safe integer). `stream` selects an independent sequence for the
   * same seed (e.g. 0 for split selection, 1 for data order), so one use never shifts another.
   */
  static fromSeed(seed: number, stream = 0): Rng {
    if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
      throw new Error(`seed and stream must be safe integers (got ${seed}, ${stream})`);
    }
    let x = (BigInt.asUintN(64, BigInt(seed)) ^ ((BigInt(stream) * 0xd1b54a32d192ed03n) & MASK64)) & MASK64;
    const words: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = splitmix64(x);
      x = r.next;
      words.push(Number(r.out & 0xffffffffn), Number(r.out >> 32n));
    }
    return new Rng(words);
  }

  /** Continue from a state saved by `state()`. */
  static fromState(state: RngState): Rng {
    if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(state.words) || state.words.length !== 4) {
      throw new Error('not an xoshiro128** state');
    }
    if (!state.words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new Error('xoshiro128** state words must be unsigned 32-bit integers');
    }
    return new Rng(state.words);
  }

  /** The current state (a copy), JSON-serialisable. */
  state(): RngState {
    return { algorithm: 'xoshiro128**', words: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias; 1 ≤ n ≤ 2^32. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new Error(`nextInt needs 1 ≤ n ≤ 2^32 (got ${n})`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = p[i] as number;
      p[i] = p[j] as number;
      p[j] = tmp;
    }
    return p;
  }
}

/** For tests: a generator started from explicit state words (the reference vectors use [1, 2, 3, 4]). */
export function rngFromWords(words: [number, number, number, number]): Rng {
  return Rng.fromState({ algorithm: 'xoshiro128**', words });
}
