// mtlora: a task-agnostic low-rank update shared by every task plus, in the top `task_layers`
// layers, one task-specific low-rank update per task — MTLoRA (Agiza et al. 2024). As the
// authors' MTLoRALinear computes it: shared output P + s_s·u·A_sᵀ·B_sᵀ; task t's output
// P + s_t·u·A_tᵀ·B_tᵀ (matrix), plus the shared term (matrixv2); scales used as given.
// Each row takes its task's output at the task layers (the task's stream feeds its head).
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';
import { needsInput } from './misfits.js';

export const MTLORA = defineFunction({
  kind: 'mtlora',
  title: 'task-agnostic + task-specific low-rank updates',
  knownAs: 'mtlora (MTLoRA)',
  paper: 'Agiza et al. 2024, MTLoRA: A Low-Rank Adaptation Approach for Efficient Multi-Task Learning',
  size: 'rank',
  options: {
    rank: OPTIONS.rank.use(8),
    task_rank: OPTIONS.task_rank.use((o) => o.rank as number),
    n_tasks: OPTIONS.n_tasks.use(1),
    shared_scale: OPTIONS.shared_scale.use(4),
    task_scale: OPTIONS.task_scale.use(4),
    shared_mode: OPTIONS.shared_mode.use('matrix'),
    task_layers: OPTIONS.task_layers.use(1),
  },
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'add', init: 'lora', heads: 'single' },
  inits: ['lora', 'random'],
  ownComposition: 'P + s_s·shared + s_t·task, scales from shared_scale and task_scale',
  insertion: { only: 'parallel', why: 'MTLoRA adapts a projection from its input: insertion must be parallel' },
  misfit: (p) => (p.kind === 'heads' ? 'mtlora adapts whole projections: put it at attn.query, ffn.up_proj, …' : needsInput('a low-rank update', p)),
  scale: () => 1,
});
