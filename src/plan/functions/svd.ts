// svd: the update in SVD form P·Λ·Q whose rank changes by importance during training — pruned to
// a budget (AdaLoRA, Zhang et al. 2023; Python peft's ADALORA, whose defaults the schedule
// options take) or grown to one (IncreLoRA, Zhang et al. 2023: ranks added to the modules that
// score highest, each new rank pre-trained as a reserve before it counts).
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';
import { weightOnly } from './misfits.js';

/** peft's AdaLoRA scale: α / (ranknum + 1e-5), ranknum the initial rank. Growing modules divide by their current rank themselves. */
export function adaloraScale(o: { rank: number; alpha: number; rank_schedule?: string }): number {
  return o.rank_schedule === 'grow' ? o.alpha : o.alpha / (o.rank + 1e-5);
}

const growing = (o: Record<string, unknown>) => o.rank_schedule === 'grow';

export const SVD = defineFunction({
  kind: 'svd',
  title: 'SVD-form update P·Λ·Q with a pruned or grown rank budget',
  knownAs: 'svd (AdaLoRA, IncreLoRA)',
  paper: 'Zhang et al. 2023, Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning',
  size: 'rank',
  options: {
    rank: OPTIONS.rank.use(12),
    alpha: OPTIONS.alpha.use((o) => o.rank as number),
    rank_schedule: OPTIONS.rank_schedule.use('prune'),
    target_rank: OPTIONS.target_rank.use((o) => (growing(o) ? 2 * (o.rank as number) : Math.max(1, Math.round(((o.rank as number) * 2) / 3)))),
    tinit: OPTIONS.tinit.use(0),
    tfinal: OPTIONS.tfinal.use(0),
    delta_t: OPTIONS.delta_t.use(1),
    beta1: OPTIONS.beta1.use(0.85),
    beta2: OPTIONS.beta2.use(0.85),
    orth_reg: OPTIONS.orth_reg.use((o) => (growing(o) ? 0.1 : 0.5)),
    // IncreLoRA: incre_rank_num (target_rank / 2 by their table), top_h, and our reserved space
    grow_by: OPTIONS.grow_by.when(growing, 'rank_schedule: grow', (o) => Math.max(1, Math.floor((o.target_rank as number) / 2))),
    grow_modules: OPTIONS.grow_modules.when(growing, 'rank_schedule: grow', 2),
    max_rank: OPTIONS.max_rank.when(growing, 'rank_schedule: grow', (o) => 2 * (o.target_rank as number) + (o.grow_by as number)),
  },
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora', heads: 'single' },
  inits: ['lora', 'random'],
  misfit: (p) => weightOnly(p.options.rank_schedule === 'grow' ? 'IncreLoRA' : 'AdaLoRA', 'reparameterises a weight matrix', p),
  scale: adaloraScale,
  check(o) {
    const out: { key: string; message: string; hint?: string }[] = [];
    if (o.rank_schedule === 'fixed') out.push({ key: 'rank_schedule', message: 'svd adapts its rank: prune (AdaLoRA) or grow (IncreLoRA)', hint: 'a fixed rank is function: lowrank' });
    if (o.rank_schedule === 'grow') {
      if (o.target_rank <= o.rank) out.push({ key: 'target_rank', message: `target_rank ${o.target_rank} must be above the starting rank ${o.rank} for ranks to grow` });
      if (typeof o.grow_modules !== 'number') out.push({ key: 'grow_modules', message: 'IncreLoRA grows the top-scoring modules: give a number (their top_h)' });
      if (o.max_rank! < o.rank + o.grow_by!) out.push({ key: 'max_rank', message: `max_rank ${o.max_rank} leaves no room for the reserve of ${o.grow_by} rank(s) above rank ${o.rank}` });
    }
    return out;
  },
});
