// Greedy decoding and sampling: one token per row and step, chosen from the row's processed
// scores (argmax, or a seeded draw after the warpers). A row that produced eos is finished: it
// is fed the pad token from then on (as transformers does) and its output ends with the eos.
// Generation stops when every row finished or max_new_tokens were generated.
import { applyProcessors, applyWarpers, argmax, type ProcessorOptions, type WarpOptions } from './logits-processors.js';
import { drawToken } from './sample.js';
import type { Stepper } from './stepper.js';
import type { Rng } from '../data/rng.js';

export interface TokenSearchOptions extends ProcessorOptions {
  maxNewTokens: number;
  pad: number;
  onStep?(step: number, logits: readonly Float32Array[]): void;
}

/** Picks a row's next token from its processed scores. */
export type TokenPicker = (scores: Float64Array) => number;

export const greedyPicker: TokenPicker = (scores) => argmax(scores);

export function samplePicker(w: WarpOptions, rng: Rng): TokenPicker {
  return (scores) => {
    applyWarpers(scores, w);
    return drawToken(scores, rng);
  };
}

export function tokenSearch(stepper: Stepper, o: TokenSearchOptions, pick: TokenPicker): number[][] {
  const rows = stepper.rows;
  const out: number[][] = Array.from({ length: rows }, () => []);
  const done = new Array<boolean>(rows).fill(false);
  let logits = stepper.first();
  for (let step = 0; step < o.maxNewTokens; step++) {
    o.onStep?.(step, logits);
    const next = new Array<number>(rows).fill(o.pad);
    for (let r = 0; r < rows; r++) {
      if (done[r]) continue;
      const scores = Float64Array.from(logits[r]);
      applyProcessors(scores, stepper.context(r, out[r].length), o);
      const token = pick(scores);
      out[r].push(token);
      next[r] = token;
      if (o.eos.includes(token)) done[r] = true;
    }
    if (done.every(Boolean) || step + 1 === o.maxNewTokens) break;
    logits = stepper.next(next);
  }
  return out;
}
