// prefix: learned keys and values prepended to an attention (Li & Liang 2021); gated, it is the
// attention's own softmax share λ (He et al. 2022 Eq. 7–10); add/scaled, the ungated variant.
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';

export const PREFIX = defineFunction({
  kind: 'prefix',
  title: 'attention over learned key/value prefixes',
  knownAs: 'prefix',
  paper: 'Li & Liang 2021, Prefix-Tuning: Optimizing Continuous Prompts for Generation',
  size: 'length',
  options: {
    length: OPTIONS.length.use(30),
    reparam: OPTIONS.reparam.use(null),
    shift_positions: OPTIONS.shift_positions.use(false),
  },
  defaults: { positions: ['attn.heads'], insertion: 'parallel', composition: 'gated', init: 'random', heads: 'multi' },
  inits: ['random', 'uniform', 'zero', 'ones', 'gaussian', 'bert', 'lora'],
  insertion: { only: 'parallel', why: 'prefix tuning is parallel by nature: its Δh is computed from the attention\'s query, not its output' },
  misfit: ({ kind }) => (kind === 'heads' ? null
    : 'prefix tuning prepends keys and values to an attention, so it only goes at attn.heads (self_attn.heads, cross_attn.heads)'),
  scale: () => 1,
});
