// half: half of every block's parameters train, whole tensors drawn per category (2 of the 4
// attention matrices of each layer; of the FFN's 3, 2 in half of the layers and 1 in the others;
// 1 of the 2 norms), the other half kept as they are — HFT (Hui et al. 2024). Each fine-tuning
// round draws afresh.
import { SELECT_OPTIONS as O } from './options.js';
import { defineCriterion } from './spec.js';

export const HALF = defineCriterion({
  criterion: 'half',
  title: 'half of each block\'s tensors, per category',
  knownAs: 'half (HFT)',
  paper: 'Hui et al. 2024, HFT: Half Fine-Tuning for Large Language Models',
  granularity: 'tensor',
  budget: null,
  scope: 'matrix',
  options: { rounds: O.rounds.use(1), norms: O.norms.use(true) },
});
