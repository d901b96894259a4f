// subspace: the chosen weights move only inside a random d-dimensional subspace, θ = θ0 + P·d,
// d the only trainable numbers and P a dense Gaussian or Fastfood projection regenerated from a
// seed — the intrinsic dimension of Li et al. (2018). Δh = u·ΔWᵀ with ΔW the site's slice of P·d.
import { OPTIONS } from './options.js';
import { defineFunction } from './spec.js';
import { weightOnly } from './misfits.js';

export const SUBSPACE = defineFunction({
  kind: 'subspace',
  title: 'weights moved in a random subspace θ0 + P·d',
  knownAs: 'subspace (intrinsic dimension)',
  paper: 'Li et al. 2018, Measuring the Intrinsic Dimension of Objective Landscapes',
  size: 'dimension',
  options: {
    dimension: OPTIONS.dimension.use(1000),
    projection: OPTIONS.projection.use('fastfood'),
    projection_seed: OPTIONS.projection_seed.use(0),
    save_projection: OPTIONS.save_projection.use(false),
  },
  defaults: {
    positions: ['attn.query', 'attn.key', 'attn.value', 'attn.out_proj', 'ffn.up_proj', 'ffn.down_proj'],
    insertion: 'parallel', composition: 'add', init: 'zero', heads: 'single',
  },
  inits: ['zero'],
  ownComposition: 'θ = θ0 + P·d',
  insertion: { only: 'parallel', why: 'a subspace moves the projection\'s own weight, so Δh is computed from its input' },
  misfit: (p) => weightOnly('subspace', 'moves a projection\'s weight matrix', p),
  scale: () => 1,
});
