// --weights w1,w2,… for the commands that combine several adapters (merge, eval, predict).
import { PeftError } from '../errors.js';

/** "0.7,0.5" → [0.7, 0.5]; anything else is a usage error naming the bad entry. */
export function parseWeights(text: string, count: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const weights = parts.map((p, i) => {
    const v = p === '' ? NaN : Number(p);
    if (!Number.isFinite(v)) throw new PeftError('USAGE', `--weights entry ${i + 1} is "${p}", not a number`, { hint: 'numbers separated by commas: --weights 0.7,0.5' });
    return v;
  });
  if (weights.length !== count) {
    throw new PeftError('USAGE', `${count} adapter${count === 1 ? '' : 's'} but ${weights.length} weight${weights.length === 1 ? '' : 's'} (--weights ${text})`, {
      hint: `one weight per adapter, in the same order: --weights ${Array.from({ length: count }, () => '1').join(',')}`,
    });
  }
  return weights;
}

