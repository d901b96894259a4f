// svd: the update in SVD form P·Λ·Q whose rank budget is pruned by importance during training —
// AdaLoRA (Zhang et al. 2023; Python peft's ADALORA). The schedule options are peft's defaults.
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';
import { weightOnly } from './misfits.js';

/** peft's AdaLoRA scale: α / (ranknum + 1e-5), ranknum the initial rank. */
export function adaloraScale(o: { rank: number; alpha: number }): number {
  return o.alpha / (o.rank + 1e-5);
}

export const SVD = defineFunction({
  kind: 'svd',
  title: 'SVD-form update P·Λ·Q with a pruned rank budget',
  knownAs: 'svd (AdaLoRA)',
  paper: 'Zhang et al. 2023, Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning',
  size: 'rank',
  options: {
    rank: OPTIONS.rank.use(12),
    alpha: OPTIONS.alpha.use((o) => o.rank as number),
    target_rank: OPTIONS.target_rank.use((o) => Math.max(1, Math.round(((o.rank as number) * 2) / 3))),
    tinit: OPTIONS.tinit.use(0),
    tfinal: OPTIONS.tfinal.use(0),
    delta_t: OPTIONS.delta_t.use(1),
    beta1: OPTIONS.beta1.use(0.85),
    beta2: OPTIONS.beta2.use(0.85),
    orth_reg: OPTIONS.orth_reg.use(0.5),
  },
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora', heads: 'single' },
  inits: ['lora', 'random'],
  misfit: (p) => weightOnly('AdaLoRA', 'reparameterises a weight matrix', p),
  scale: adaloraScale,
});
