// bias: h + b, b initialised to zero — BitFit (Ben Zaken et al. 2022) where a projection has a
// bias, an added one where it has none.
import { defineFunction } from './spec.js';

export const BIAS = defineFunction({
  kind: 'bias',
  title: 'learned bias h + b',
  knownAs: 'bias (BitFit)',
  paper: 'Ben Zaken et al. 2022, BitFit: Simple Parameter-efficient Fine-tuning for Transformer-based Masked Language-models',
  size: null,
  options: {},
  defaults: { positions: ['attn.output', 'ffn.output'], insertion: 'sequential', composition: 'add', init: 'zero', heads: 'single' },
  inits: ['zero'],
  ownComposition: 'h + b',
  misfit: () => null,
  scale: () => 1,
});
