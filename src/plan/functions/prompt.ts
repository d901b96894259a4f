// prompt: learned vectors prepended to the input sequence (Lester et al. 2021).
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';

export const PROMPT = defineFunction({
  kind: 'prompt',
  title: 'learned vectors prepended to the input',
  knownAs: 'prompt',
  paper: 'Lester et al. 2021, The Power of Scale for Parameter-Efficient Prompt Tuning',
  size: 'length',
  options: {
    length: OPTIONS.length.use(20),
    init_text: OPTIONS.init_text.optional(),
  },
  defaults: { positions: ['embeddings'], insertion: 'sequential', composition: 'add', init: 'vocab', heads: 'single' },
  inits: ['vocab', 'random', 'uniform', 'zero', 'ones', 'gaussian', 'bert', 'lora', 'text'],
  ownComposition: 'prepending',
  misfit: ({ kind }) => (kind === 'embeddings' ? null : 'prompt tuning prepends vectors to the input sequence, so it only goes at embeddings'),
  scale: () => 1,
  check(o) {
    return o.init === 'text' && !o.init_text ? [{ key: 'init', message: 'init: text needs init_text' }] : [];
  },
});
