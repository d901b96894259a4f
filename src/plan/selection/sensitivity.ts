// sensitivity: the squared gradients of N batches of the recipe's data rank every entry; the
// budget goes to the most sensitive ones over all chosen weights, and a matrix holding many of
// them gets a low-rank update instead of its single entries — SPT (He et al. 2023).
import { SELECT_OPTIONS as O } from './options.js';
import { defineCriterion } from './spec.js';

export const SENSITIVITY = defineCriterion({
  criterion: 'sensitivity',
  title: 'the most gradient-sensitive entries, LoRA where they crowd',
  knownAs: 'sensitivity (SPT)',
  paper: 'He et al. 2023, Sensitivity-Aware Visual Parameter-Efficient Fine-Tuning',
  granularity: 'entry',
  budget: { fallback: { fraction: 0.01 } },
  scope: 'global',
  options: { batches: O.batches.use(8), lora_rank: O.lora_rank.use(8), lora_factor: O.lora_factor.use(10) },
});
