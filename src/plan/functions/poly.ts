// poly: a skill inventory of LoRA modules mixed per task by learned routing logits — Polytropon
// (Ponti et al. 2023) and, with n_splits > 1, Multi-Head Routing (Caccia et al. 2023): the input
// and output features are cut into n_splits blocks, each routed on its own. As Python peft's POLY
// computes it: Δh = u·A(t)·B(t) / r with A(t) = Σ_s w_ts·A_s, w = normalised sigmoid of the task's
// logits (a relaxed-Bernoulli sample of them in training).
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';
import { needsInput } from './misfits.js';

export const POLY = defineFunction({
  kind: 'poly',
  title: 'task-routed mixture of LoRA skills',
  knownAs: 'poly (Poly, MHR)',
  paper: 'Ponti et al. 2023, Combining Parameter-efficient Modules for Task-level Generalisation; Caccia et al. 2023, Multi-Head Adapter Routing for Cross-Task Generalization',
  size: 'rank',
  options: {
    rank: OPTIONS.rank.use(8),
    n_tasks: OPTIONS.n_tasks.use(1),
    n_skills: OPTIONS.n_skills.use(4),
    n_splits: OPTIONS.n_splits.use(1),
  },
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora', heads: 'single' },
  inits: ['lora', 'random'],
  misfit: (p) => (p.kind === 'heads' ? 'poly routes whole projections: put it at attn.query, attn.value, …' : needsInput('a routed low-rank update', p)),
  // Python peft divides the mixed update by r
  scale: (o) => 1 / o.rank,
});
