// lowrank: Δh = s·u·Aᵀ·Bᵀ — LoRA (Hu et al. 2021; He et al. 2022 Eq. 6), rsLoRA's α/√r scale,
// and DoRA's magnitude/direction split of the adapted weight (Liu et al. 2024).
import { OPTIONS } from './options.js';
import { alphaOverRank, defineFunction } from './spec.js';
import { needsInput } from './misfits.js';
import { checkFactorization, convMisfit } from './lowrank-conv.js';

const SLICE_HINT = 'put DoRA at attn.qkv, or use an additive function (lowrank without dora, bottleneck, scaling, bias) there';

export const LOWRANK = defineFunction({
  kind: 'lowrank',
  title: 'low-rank update u·Aᵀ·Bᵀ',
  knownAs: 'lowrank (LoRA)',
  paper: 'Hu et al. 2021, LoRA: Low-Rank Adaptation of Large Language Models',
  size: 'rank',
  options: {
    rank: OPTIONS.rank.use(8),
    alpha: OPTIONS.alpha.use((o) => o.rank as number),
    rslora: OPTIONS.rslora.use(false),
    dora: OPTIONS.dora.use(false),
    factorization: OPTIONS.factorization.use('ab'),
    core_ranks: OPTIONS.core_ranks.optional(),
  },
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora', heads: 'single' },
  inits: ['lora', 'gaussian', 'bert', 'random'],
  perHead: true,
  misfit({ role, kind, sliced, heads, options }) {
    const conv = convMisfit(role, options);
    if (conv) return conv;
    if (options.dora && sliced) return `${role} is a slice of a fused q/k/v projection here, with no weight matrix of its own: ${SLICE_HINT}`;
    if (options.dora && kind !== 'linear') return 'DoRA rescales a weight matrix, so it only goes at a projection (attn.query, ffn.down_proj, …)';
    return needsInput('a low-rank update', { role, kind, sliced, heads, options });
  },
  scale: alphaOverRank,
  check(o, m) {
    const factored = checkFactorization(o, m);
    if (factored.length) return factored;
    if (!o.dora) return [];
    if (m.insertion !== 'parallel') return [{ key: 'insertion', message: 'DoRA rescales the adapted weight W + s·B·A: it needs insertion: parallel' }];
    if (m.composition !== 'scaled' || m.scale === 'learned') {
      return [{ key: 'composition', message: 'DoRA rescales the adapted weight W + s·B·A: it needs composition: scaled with a fixed scale' }];
    }
    return [];
  },
});
