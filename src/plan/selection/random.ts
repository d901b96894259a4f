// random: a seeded random subset of the entries — the baseline every informed criterion should
// beat, and the cheapest sparse fine-tuning (the mask is regenerated from the recipe's seed).
import { SELECT_OPTIONS as O } from './options.js';
import { defineCriterion } from './spec.js';

export const RANDOM = defineCriterion({
  criterion: 'random',
  title: 'a seeded random subset of the entries',
  knownAs: 'random (sparse baseline)',
  paper: 'baseline (random masking, e.g. Xu et al. 2021, Raise a Child in Large Language Model)',
  granularity: 'entry',
  budget: { fallback: { fraction: 0.1 } },
  scope: 'matrix',
  options: { biases: O.biases.use(false) },
});
