// hadamard: ΔW = (W1a·W1b) ⊙ (W2a·W2b), Δh = s·u·ΔWᵀ — LoHa (Hyeon-Woo et al. 2022, FedPara;
// Python peft's LOHA).
import { OPTIONS } from './options.js';
import { alphaOverRank, defineFunction } from './spec.js';
import { weightOnly } from './misfits.js';

export const HADAMARD = defineFunction({
  kind: 'hadamard',
  title: 'Hadamard product of two low-rank products',
  knownAs: 'hadamard (LoHa)',
  paper: 'Hyeon-Woo et al. 2022, FedPara: Low-Rank Hadamard Product for Communication-Efficient Federated Learning',
  size: 'rank',
  options: {
    rank: OPTIONS.rank.use(8),
    alpha: OPTIONS.alpha.use((o) => o.rank as number),
  },
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora', heads: 'single' },
  inits: ['lora', 'random'],
  misfit: (p) => weightOnly('LoHa', 'reparameterises a weight matrix', p),
  scale: alphaOverRank,
});
