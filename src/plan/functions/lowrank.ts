// lowrank: Δh = s·u·Aᵀ·Mᵀ·Bᵀ — one idea with the dimensions its family varies:
//  - basis (where A and B come from): learned (LoRA, Hu et al. 2021), shared frozen random with
//    trained scaling vectors (VeRA), random bases mixed by trained coefficients (NOLA), a shared
//    vector bank with top-k (VB-LoRA), shard pools shared across layers (MoS);
//  - factorization (what M is): none (AB), LU-derived diagonal (LoLDU), Tucker core (FLoRA),
//    block-triangular core (TriAdaptLoRA);
//  - branches: one, or a parallel and a sequential one at the same position (Hydra);
//  - experts: several pairs with a top-k router and a per-layer count (MoLA);
//  - init: LoRA's, or CorDA's context-oriented decomposition of the weight;
//  - rank_schedule: fixed, or grown by importance (TriAdaptLoRA).
// rsLoRA's α/√r scale and DoRA's magnitude/direction split (Liu et al. 2024) stay as they were.
import { OPTIONS } from './options.js';
import { alphaOverRank, defineFunction, type DecidedOptions, type ModuleShape } from './spec.js';
import { needsInput, weightOnly } from './misfits.js';
import { checkFactorization, convMisfit } from './lowrank-conv.js';

const SLICE_HINT = 'put DoRA at attn.qkv, or use an additive function (lowrank without dora, bottleneck, scaling, bias) there';

const basisIs = (...b: string[]) => (o: Record<string, unknown>) => b.includes(o.basis as string);
const growing = (o: Record<string, unknown>) => o.rank_schedule === 'grow';
const routed = (o: Record<string, unknown>) => o.experts !== 1;

const OPTION_USES = {
  rank: OPTIONS.rank.use(8),
  alpha: OPTIONS.alpha.use((o) => o.rank as number),
  rslora: OPTIONS.rslora.use(false),
  dora: OPTIONS.dora.use(false),
  basis: OPTIONS.basis.use('learned'),
  factorization: OPTIONS.factorization.use('ab'),
  branches: OPTIONS.branches.use('single'),
  experts: OPTIONS.experts.use(1),
  rank_schedule: OPTIONS.rank_schedule.use('fixed'),
  bias: OPTIONS.bias.use(false),
  sequential_rank: OPTIONS.sequential_rank.when((o) => o.branches === 'parallel+sequential', 'branches: parallel+sequential', (o) => o.rank as number),
  top_k: OPTIONS.top_k.when((o) => routed(o) || o.basis === 'bank', 'experts or basis: bank', 2),
  balance_loss: OPTIONS.balance_loss.when(routed, 'experts', 0.001),
  num_basis: OPTIONS.num_basis.when(basisIs('combination'), 'basis: combination', 1024),
  num_vectors: OPTIONS.num_vectors.when(basisIs('bank'), 'basis: bank', 256),
  vector_length: OPTIONS.vector_length.when(basisIs('bank'), 'basis: bank', 256),
  save_only_topk: OPTIONS.save_only_topk.when(basisIs('bank'), 'basis: bank', false),
  shards_per_vector: OPTIONS.shards_per_vector.when(basisIs('shards'), 'basis: shards', 2),
  pool_rank: OPTIONS.pool_rank.when(basisIs('shards'), 'basis: shards', (o) => Math.max(1, Math.floor((o.rank as number) / 4))),
  private_rank: OPTIONS.private_rank.when(basisIs('shards'), 'basis: shards', (o) => Math.min(1, o.pool_rank as number, (o.rank as number) - 1)),
  d_initial: OPTIONS.d_initial.when(basisIs('shared'), 'basis: shared', 0.1),
  projection_seed: OPTIONS.projection_seed.when(basisIs('shared', 'combination', 'shards'), 'basis: shared, combination or shards', 0),
  // Python peft's VeRA stores its projection by default (save_projection=True); NOLA's claim is the seed alone
  save_projection: OPTIONS.save_projection.when(basisIs('shared', 'combination'), 'basis: shared or combination', (o) => o.basis === 'shared'),
  core: OPTIONS.core.when((o) => o.factorization === 'tucker', 'factorization: tucker', (o) => [o.rank as number, o.rank as number]),
  corda_mode: OPTIONS.corda_mode.when((o) => o.init === 'corda', 'init: corda', 'ipm'),
  calibration_batches: OPTIONS.calibration_batches.when((o) => o.init === 'corda', 'init: corda', 8),
  target_rank: OPTIONS.target_rank.when(growing, 'rank_schedule: grow', (o) => 2 * (o.rank as number)),
  grow_by: OPTIONS.grow_by.when(growing, 'rank_schedule: grow', (o) => o.rank as number),
  grow_modules: OPTIONS.grow_modules.when(growing, 'rank_schedule: grow', 'linear' as const),
  max_rank: OPTIONS.max_rank.when(growing, 'rank_schedule: grow', (o) => 2 * (o.target_rank as number)),
  tinit: OPTIONS.tinit.when(growing, 'rank_schedule: grow', 0),
  delta_t: OPTIONS.delta_t.when(growing, 'rank_schedule: grow', 10),
  orthogonal: OPTIONS.orthogonal.optional(),
  quantize_bits: OPTIONS.quantize_bits.optional(),
};

type LowrankOptions = DecidedOptions<typeof OPTION_USES>;
type Problem = { key: string; message: string; hint?: string };

/** The variant of lowrank a module is, in a few words (for messages). */
function variant(o: LowrankOptions): string[] {
  const v: string[] = [];
  if (o.dora) v.push('dora');
  if (o.basis !== 'learned') v.push(`basis: ${o.basis}`);
  if (o.factorization !== 'ab') v.push(`factorization: ${o.factorization}`);
  if (o.branches !== 'single') v.push(`branches: ${o.branches}`);
  if (o.experts !== 1) v.push('experts');
  if (o.rank_schedule !== 'fixed') v.push(`rank_schedule: ${o.rank_schedule}`);
  if (o.init === 'corda') v.push('init: corda');
  if (o.bias) v.push('bias');
  if (o.orthogonal) v.push('orthogonal');
  if (o.quantize_bits) v.push('quantize_bits');
  return v;
}

/** Which variants combine (each is checked against the others once). */
function combinations(o: LowrankOptions, m: ModuleShape): Problem[] {
  const out: Problem[] = [];
  const v = variant(o);
  // a factorization, basis or init that owns A and B combines with nothing else that does
  const owners = v.filter((x) => x !== 'bias' && !(x === 'rank_schedule: grow' && o.factorization === 'triangular'));
  if (owners.length > 1) {
    const key = ['dora', 'orthogonal', 'quantize_bits'].find((k) => owners.includes(k)) ?? 'basis';
    out.push({ key, message: `${owners.join(' and ')} cannot be combined: each decides A and B in its own way`, hint: 'keep one of them (a method per module; several modules may share a position)' });
  }
  if (o.bias && (o.basis !== 'learned' || o.factorization !== 'ab' || o.dora || o.experts !== 1 || o.init === 'corda')) {
    out.push({ key: 'bias', message: 'bias: true is for learned A/B pairs (LoRA-style and Hydra\'s branches)' });
  }
  if (o.rank_schedule === 'prune') out.push({ key: 'rank_schedule', message: 'lowrank prunes no ranks', hint: 'AdaLoRA\'s pruning is function: svd' });
  if (o.rank_schedule === 'grow' && o.factorization !== 'triangular') {
    out.push({ key: 'rank_schedule', message: 'lowrank grows ranks with factorization: triangular (TriAdaptLoRA)', hint: 'IncreLoRA\'s growth is function: svd with rank_schedule: grow' });
  }
  if (o.rank_schedule === 'grow') {
    const t = o.target_rank!;
    if (t <= o.rank) out.push({ key: 'target_rank', message: `target_rank ${t} must be above the starting rank ${o.rank} for ranks to grow` });
    if (o.max_rank! < o.rank) out.push({ key: 'max_rank', message: `max_rank ${o.max_rank} is below the starting rank ${o.rank}` });
  }
  const needsParallel = o.factorization === 'ldu' || o.init === 'corda' || o.branches === 'parallel+sequential';
  if (needsParallel && m.insertion !== 'parallel') {
    out.push({ key: 'insertion', message: `${v.find((x) => x !== 'bias')} decomposes or reads the projection's input: it needs insertion: parallel` });
  }
  if (m.heads === 'multi' && v.length > 0) out.push({ key: 'heads', message: `heads: multi is plain LoRA per head; ${v.join(', ')} is not` });
  return out;
}

function sizes(o: LowrankOptions, m: ModuleShape): Problem[] {
  const out: Problem[] = [];
  if (o.experts !== 1) {
    const counts = Array.isArray(o.experts) ? o.experts : [o.experts];
    if (counts.length === 0) out.push({ key: 'experts', message: 'needs at least one count' });
    const fewest = Math.min(...counts);
    if (o.top_k! > fewest) out.push({ key: 'top_k', message: `top_k ${o.top_k} is more than the ${fewest} expert(s) of some layer` });
  }
  if (o.basis === 'shards') {
    if (o.pool_rank! < o.private_rank!) out.push({ key: 'private_rank', message: `private_rank ${o.private_rank} exceeds pool_rank ${o.pool_rank}` });
    if (o.rank < o.private_rank!) out.push({ key: 'private_rank', message: `private_rank ${o.private_rank} exceeds rank ${o.rank}` });
    if (o.pool_rank === o.private_rank && o.rank !== o.pool_rank) {
      out.push({ key: 'rank', message: 'with every shard private (private_rank = pool_rank) each layer sees exactly pool_rank ranks', hint: `set rank: ${o.pool_rank}` });
    }
  }
  // a projection's weight has 2 modes; a kernel 4 (in, out, kh, kw), and a 2-rank core there leaves the kernel modes at min(k, 2)
  const kernels = m.positions.some((p) => /^((text|vision)\.)?conv(\.|$)/.test(p));
  if (o.factorization === 'tucker' && o.core!.length !== 2 && !(kernels && o.core!.length === 4)) {
    out.push({
      key: 'core', message: `a projection's weight has 2 modes, so the core has 2 ranks (got ${o.core!.length})`,
      hint: kernels ? 'at convolutions: [r_in, r_out] or [r_in, r_out, r_kh, r_kw]' : 'N-mode cores are for convolution kernels',
    });
  }
  return out;
}

export const LOWRANK = defineFunction({
  kind: 'lowrank',
  title: 'low-rank update u·Aᵀ·Bᵀ',
  knownAs: 'lowrank (LoRA)',
  paper: 'Hu et al. 2021, LoRA: Low-Rank Adaptation of Large Language Models',
  size: 'rank',
  options: OPTION_USES,
  defaults: { positions: ['attn.query', 'attn.value'], insertion: 'parallel', composition: 'scaled', init: 'lora', heads: 'single' },
  inits: ['lora', 'gaussian', 'bert', 'random', 'corda'],
  perHead: true,
  misfit({ role, kind, sliced, heads, options }) {
    const conv = convMisfit(role, options);
    if (conv) return conv;
    if (options.dora && sliced) return `${role} is a slice of a fused q/k/v projection here, with no weight matrix of its own: ${SLICE_HINT}`;
    if (options.dora && kind !== 'linear') return 'DoRA rescales a weight matrix, so it only goes at a projection (attn.query, ffn.down_proj, …)';
    if (options.factorization === 'ldu') return weightOnly('LoLDU', 'decomposes the projection\'s weight (LU)', { role, kind, sliced, heads, options });
    if (options.init === 'corda') return weightOnly('CorDA', 'decomposes the projection\'s weight', { role, kind, sliced, heads, options });
    if ((options.orthogonal || options.quantize_bits) && heads === 'multi') return 'orthogonal and quantize_bits work on whole projections (heads: single), not per head';
    return needsInput('a low-rank update', { role, kind, sliced, heads, options });
  },
  scale: alphaOverRank,
  check(o, m) {
    const problems = [...combinations(o, m), ...sizes(o, m), ...checkFactorization(o, m)];
    if (!o.dora) return problems;
    if (m.insertion !== 'parallel') problems.push({ key: 'insertion', message: 'DoRA rescales the adapted weight W + s·B·A: it needs insertion: parallel' });
    if (m.composition !== 'scaled' || m.scale === 'learned') {
      problems.push({ key: 'composition', message: 'DoRA rescales the adapted weight W + s·B·A: it needs composition: scaled with a fixed scale' });
    }
    return problems;
  },
});
