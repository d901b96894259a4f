// "Did you mean …?" for unknown keys and enum values: the closest candidate by
// Damerau-Levenshtein distance (optimal string alignment), if it is close enough for its length.

/** Edit distance counting insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const width = b.length + 1;
  // Three rows: two back (for transpositions), previous, current.
  let older = new Array<number>(width).fill(0);
  let prev = Array.from({ length: width }, (_, j) => j);
  let cur = new Array<number>(width).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, older[j - 2]! + 1);
      cur[j] = d;
    }
    [older, prev, cur] = [prev, cur, older];
  }
  return prev[b.length]!;
}

/** The largest distance still worth suggesting for a word of this length. */
export function suggestionThreshold(length: number): number {
  return Math.max(1, Math.round(length / 3));
}

/**
 * The candidate closest to `word` (case-insensitive), or undefined when none is within the
 * threshold. Ties go to the earlier candidate.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= suggestionThreshold(Math.max(word.length, best.length)) ? best : undefined;
}
