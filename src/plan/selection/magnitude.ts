// magnitude: the entries of smallest |w| train — SaRA (Hu et al. 2024): the "ineffective"
// weights of a pretrained model are the ones near zero; after some training the entries that
// grew past the threshold stop and the rest continue (progressive re-selection), with a
// nuclear-norm penalty keeping the sparse trainable matrix low-rank.
import { SELECT_OPTIONS as O } from './options.js';
import { defineCriterion } from './spec.js';

export const MAGNITUDE = defineCriterion({
  criterion: 'magnitude',
  title: 'the entries of smallest |w|',
  knownAs: 'magnitude (SaRA)',
  paper: 'Hu et al. 2024, SaRA: High-Efficient Diffusion Model Fine-tuning with Progressive Sparse Low-Rank Adaptation',
  granularity: 'entry',
  budget: { fallback: { fraction: 0.1 } },
  scope: 'matrix',
  options: {
    threshold: O.threshold.use(null),
    reselect: O.reselect.use(null),
    nuclear: O.nuclear.use(0),
    biases: O.biases.use(false),
  },
  check(o, _budget, given) {
    if (o.threshold !== null && given.budget !== undefined) {
      return [{ key: 'threshold', message: 'give a budget or a threshold, not both', hint: 'threshold selects |w| < threshold in every chosen weight (SaRA\'s rule)' }];
    }
    return [];
  },
});
