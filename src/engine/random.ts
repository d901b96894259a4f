// Seeded random numbers for parameter initialisation. Every value derives from (recipe seed,
// parameter name), so the same recipe initialises the same adapter whatever order modules are
// built in.

/** 32-bit FNV-1a of a string. */
export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** splitmix32: a small, well-mixed generator; returns floats in (0, 1). */
export function uniformStream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296;
  };
}

export function seedFor(seed: number, name: string): number {
  return (hashString(name) ^ Math.imul(seed >>> 0, 0x27d4eb2d)) >>> 0;
}

/** n values uniform in [lo, hi). */
export function uniformArray(n: number, lo: number, hi: number, seed: number): Float32Array {
  const next = uniformStream(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** n values N(mean, std²) (Box–Muller). */
export function normalArray(n: number, std: number, seed: number, mean = 0): Float32Array {
  const next = uniformStream(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const a = 2 * Math.PI * next();
    out[i] = mean + r * Math.cos(a) * std;
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(a) * std;
  }
  return out;
}
