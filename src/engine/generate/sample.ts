// One draw from the distribution a row's (processed, warped) scores define: softmax over the
// tokens not cut (−∞), then the first token, in id order, whose cumulative probability exceeds a
// uniform number from the seeded generator.
import type { Rng } from '../data/rng.js';
import { argmax } from './logits-processors.js';

export function drawToken(scores: Float64Array, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  const u = rng.nextFloat();
  // every token cut (only when rules forbid them all): the most likely one
  if (max === -Infinity) return argmax(scores);
  let z = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > -Infinity) z += Math.exp(scores[i] - max);
  let acc = 0;
  let last = -1;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] === -Infinity) continue;
    acc += Math.exp(scores[i] - max) / z;
    last = i;
    if (u < acc) return i;
  }
  return last;
}
