// scaling: h ⊙ l, l initialised to ones — (IA)³ (Liu et al. 2022).
import { defineFunction } from './spec.js';

export const SCALING = defineFunction({
  kind: 'scaling',
  title: 'learned rescaling h ⊙ l',
  knownAs: 'scaling (IA³)',
  paper: 'Liu et al. 2022, Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning',
  size: null,
  options: {},
  defaults: { positions: ['attn.key', 'attn.value', 'ffn.intermediate'], insertion: 'sequential', composition: 'add', init: 'ones', heads: 'single' },
  inits: ['ones', 'random'],
  ownComposition: 'h ⊙ l',
  misfit: () => null,
  scale: () => 1,
});
