// learned: a binary mask over the entries learned through a straight-through estimator, with the
// gradient-dropout regularity that keeps it close to what the pretrained model knows — Regularized
// Mask Tuning (Zheng et al. 2023). The mask is the selection: entries it switches off are zeroed.
import { SELECT_OPTIONS as O } from './options.js';
import { defineCriterion } from './spec.js';

export const LEARNED = defineCriterion({
  criterion: 'learned',
  title: 'a binary mask learned through a straight-through estimator',
  knownAs: 'learned (Regularized Mask Tuning)',
  paper: 'Zheng et al. 2023, Regularized Mask Tuning: Uncovering Hidden Knowledge in Pre-trained Vision-Language Models',
  granularity: 'entry',
  budget: null,
  scope: 'matrix',
  options: {
    score_threshold: O.score_threshold.use(5e-3),
    init_score: O.init_score.use(1e-2),
    score_reg: O.score_reg.use(1e-4),
    gdr: O.gdr.use({ lambda: 0.3, temperature: 1 }),
  },
  check(o) {
    if (o.init_score <= o.score_threshold) {
      return [{ key: 'init_score', message: `init_score ${o.init_score} is not above score_threshold ${o.score_threshold}: the mask would start by zeroing weights`, hint: 'R-AMT starts every score at 1e-2 over a threshold of 5e-3 (the model unchanged at step 0)' }];
    }
    return [];
  },
});
