// mixture: domain adapters beside the FFN's second projection, mixed with its output by a gate —
// Mixture-of-Domain-Adapters (Diao et al. 2023). As the authors' RobertaOutput computes it, at
// ffn.down_proj (x: the FFN's activation, h: the projection's output):
//   e_j = W_up,j·f(W_down,j·x + b) + b (j < K), e_K = h, w = softmax(gate MLP(x at the last position)),
//   h' = Σ_j w_j e_j.
// A language-modelling stage of a mixda stream trains one adapter on its own (h' = h + e_j).
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';

export const MIXTURE = defineFunction({
  kind: 'mixture',
  title: 'gated mixture of domain adapters and the FFN output',
  knownAs: 'mixture (MixDA)',
  paper: 'Diao et al. 2023, Mixture-of-Domain-Adapters: Decoupling and Injecting Domain Knowledge to Pre-trained Language Models\' Memories',
  size: 'bottleneck',
  options: {
    n_experts: OPTIONS.n_experts.use(1),
    bottleneck: OPTIONS.bottleneck.use(64),
    nonlinearity: OPTIONS.nonlinearity.use('gelu'),
    gate_hidden: OPTIONS.gate_hidden.use(64),
    gate_layers: OPTIONS.gate_layers.use(3),
    gate_input: OPTIONS.gate_input.use('last'),
  },
  defaults: { positions: ['ffn.down_proj'], insertion: 'parallel', composition: 'add', init: 'lora', heads: 'single' },
  inits: ['lora'],
  ownComposition: 'Σ_j w_j·e_j with the FFN output as the last expert',
  insertion: { only: 'parallel', why: 'the domain adapters read the FFN activation, as its second projection does: insertion must be parallel' },
  misfit: ({ role }) => (/(^|\.)ffn\.down_proj$/.test(role) ? null : 'the mixture sits beside the FFN\'s second projection: position ffn.down_proj'),
  scale: () => 1,
});
