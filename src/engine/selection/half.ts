// HFT's draw (Hui et al. 2024; rule in test/fixtures/reference/hft/README.md): in every layer,
// per category of tensors, half of them train — whole tensors, never parts. A category of m
// tensors gives m/2 per layer when m is even (attention: 2 of q, k, v, o; norms: 1 of 2); when m
// is odd (the gated FFN's 3) a random ⌊L/2⌋ of the layers train ⌈m/2⌉ and the others ⌊m/2⌋, so
// that about half of all of them train. Every round draws afresh from (seed, round).
import { seedFor, uniformStream } from '../random.js';

/** The tensors of one layer by category: attention matrices, FFN matrices, norms (each a list of names of one unit). */
export interface LayerTensors {
  layer: string;
  attention: string[][];
  ffn: string[][];
  norms: string[][];
}

/** A seeded Fisher–Yates shuffle. */
function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The tensor names that train in round `round`. */
export function drawHalf(layers: readonly LayerTensors[], seed: number, round: number): string[] {
  const next = uniformStream(seedFor(seed, `hft:round:${round}`));
  const chosen: string[] = [];
  for (const category of ['attention', 'ffn', 'norms'] as const) {
    const inLayers = layers.filter((l) => l[category].length > 0);
    // a random half of the layers take the larger share when the category has an odd size
    const larger = new Set(shuffled(inLayers.map((l) => l.layer), next).slice(0, Math.floor(inLayers.length / 2)));
    for (const l of inLayers) {
      const m = l[category].length;
      const take = m % 2 === 0 ? m / 2 : larger.has(l.layer) ? Math.ceil(m / 2) : Math.floor(m / 2);
      for (const unit of shuffled(l[category], next).slice(0, take)) chosen.push(...unit);
    }
  }
  return chosen;
}
