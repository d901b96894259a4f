// Every option a function kind can take, defined once: its JSON Schema (the recipe schema's
// definition of that key is generated from it) and its TypeScript type. A function's table
// entry picks the options it takes and gives each its default (`use`), so one key (`rank`)
// means the same thing and is checked the same way in every function that has it.
import type { InitKind, Nonlinearity } from './kinds.js';

/** The JSON Schema of one option key (draft-07; a description is required: editors show it). */
export interface OptionSchema {
  type: string | string[];
  description: string;
  [keyword: string]: unknown;
}

/** How a function uses an option: its default (a constant or a rule over options decided before it), or none. */
export interface OptionUse<T> {
  key: string;
  schema: OptionSchema;
  /** undefined: the option stays absent unless the recipe sets it. */
  fallback: T | ((decided: Record<string, unknown>) => T) | undefined;
  /** Decided only when the options before it make it apply (`when`); absent otherwise. */
  conditional?: { applies: (decided: Record<string, unknown>) => boolean; scope: string };
  /** Phantom: the option's decided type. */
  readonly _type?: T;
}

/** An option key with its schema; `.use(default)` makes it part of a function's table entry. */
export interface OptionDef<T> {
  key: string;
  schema: OptionSchema;
  /** Decided by default: always present in the plan. */
  use(fallback: T | ((decided: Record<string, unknown>) => T)): OptionUse<T>;
  /** Present in the plan only when the recipe sets it. */
  optional(): OptionUse<T | undefined>;
  /**
   * Decided (with this default) only when `applies` holds for the options decided before it
   * (a basis's own options when that basis is chosen); absent otherwise.
   */
  when(applies: (decided: Record<string, unknown>) => boolean, scope: string, fallback: T | ((decided: Record<string, unknown>) => T)): OptionUse<T | undefined>;
}

function def<T>(key: string, schema: OptionSchema): OptionDef<T> {
  return {
    key, schema,
    use: (fallback) => ({ key, schema, fallback }),
    optional: () => ({ key, schema, fallback: undefined }),
    when: (applies, scope, fallback) => ({
      key, schema, conditional: { applies, scope },
      fallback: (d: Record<string, unknown>) => (!applies(d) ? undefined
        : typeof fallback === 'function' ? (fallback as (x: Record<string, unknown>) => T)(d) : fallback),
    }),
  };
}

/** Sizes a recipe may ask for before anything checks them against a model: generous, but finite. */
export const MAX_SIZE = 65536;
export const MAX_LENGTH = 4096;

export const NONLINEARITIES: readonly Nonlinearity[] = ['relu', 'gelu', 'gelu_new', 'tanh', 'silu', 'swish', 'sigmoid', 'identity'];
export const INIT_KINDS: readonly InitKind[] = ['lora', 'bert', 'zero', 'gaussian', 'ones', 'random', 'uniform', 'vocab', 'text', 'corda'];

/** The low-rank family's dimensions (docs/recipes.md, "the low-rank family"). */
export const BASES = ['learned', 'shared', 'combination', 'bank', 'shards'] as const;
export type Basis = (typeof BASES)[number];
export const FACTORIZATIONS = ['ab', 'ldu', 'tucker', 'triangular'] as const;
export type Factorization = (typeof FACTORIZATIONS)[number];
export const BRANCHES = ['single', 'parallel+sequential'] as const;
export type Branches = (typeof BRANCHES)[number];
export const RANK_SCHEDULES = ['fixed', 'prune', 'grow'] as const;
export type RankSchedule = (typeof RANK_SCHEDULES)[number];
/** The largest number of entries a regenerated random basis may have (floats held in memory). */
export const MAX_BASIS_ENTRIES = 2 ** 28;

export const OPTIONS = {
  rank: def<number>('rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'Rank r of lowrank / hadamard / svd modules.' }),
  alpha: def<number>('alpha', {
    type: 'number', exclusiveMinimum: 0,
    description: 'Scaling numerator of lowrank / hadamard / svd: s = alpha / rank (alpha / sqrt(rank) with rslora).',
  }),
  rslora: def<boolean>('rslora', { type: 'boolean', description: 'Rank-stabilised LoRA: scale by alpha / sqrt(rank).' }),
  dora: def<boolean>('dora', { type: 'boolean', description: 'DoRA: decompose the adapted weight into magnitude and direction (projections only).' }),
  target_rank: def<number>('target_rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'svd, lowrank with rank_schedule: grow: the average rank per module the budget prunes to (AdaLoRA) or grows to (IncreLoRA, TriAdaptLoRA).' }),
  tinit: def<number>('tinit', { type: 'integer', minimum: 0, description: 'Rank schedules: steps of warmup before ranks are pruned or grown.' }),
  tfinal: def<number>('tfinal', { type: 'integer', minimum: 0, description: 'svd (AdaLoRA): final steps with the rank budget fixed.' }),
  delta_t: def<number>('delta_t', { type: 'integer', minimum: 1, description: 'Rank schedules: steps between two budget allocations.' }),
  beta1: def<number>('beta1', { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'svd (AdaLoRA): EMA coefficient of the importance scores.' }),
  beta2: def<number>('beta2', { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'svd (AdaLoRA): EMA coefficient of the importance uncertainty.' }),
  orth_reg: def<number>('orth_reg', { type: 'number', minimum: 0, description: 'svd (AdaLoRA, IncreLoRA): weight of the orthogonality regulariser.' }),
  bottleneck: def<number>('bottleneck', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'Bottleneck width of an adapter (function: bottleneck).' }),
  nonlinearity: def<Nonlinearity>('nonlinearity', { type: 'string', enum: [...NONLINEARITIES], description: 'The adapter\'s nonlinearity f (function: bottleneck).' }),
  layernorm: def<'none' | 'before' | 'after'>('layernorm', {
    type: 'string', enum: ['none', 'before', 'after'], description: 'A layer norm inside the adapter, before or after it (function: bottleneck).',
  }),
  ln_input: def<'none' | 'original'>('ln_input', {
    type: 'string', enum: ['none', 'original'],
    description: 'The adapter\'s input (function: bottleneck). none: x or h as insertion says; original: LN(x + h) with the sublayer\'s own pre-trained LayerNorm (post-LN backbones, sequential insertion, at attn.output / ffn.output; Δh is added before that LN: AdapterHub\'s seq_bn).',
  }),
  length: def<number>('length', { type: 'integer', minimum: 1, maximum: MAX_LENGTH, description: 'Number of virtual tokens (prefix, prompt).' }),
  reparam: def<{ hidden: number } | null>('reparam', {
    type: ['object', 'null'], 'x-expected': '{hidden: n} or null',
    description: 'prefix: train the prefixes through an MLP with this hidden size ({hidden: 800}); collapsed to plain prefixes when saved. null: no MLP.',
    properties: { hidden: { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'Hidden size of the prefix MLP.' } },
    required: ['hidden'], additionalProperties: false,
  }),
  shift_positions: def<boolean>('shift_positions', {
    type: 'boolean',
    description: 'prefix: real tokens\' positions start after the prefix, as Python peft\'s prefix tuning does (default false: positions are kept, as AdapterHub and the paper).',
  }),
  basis: def<Basis>('basis', {
    type: 'string', enum: [...BASES],
    description: 'lowrank: where A and B come from. learned: trained matrices (LoRA); shared: frozen random A/B shared by every site, trained scaling vectors (VeRA); combination: frozen random bases mixed by trained coefficients (NOLA); bank: assembled from a shared trained vector bank by top-k (VB-LoRA); shards: concatenated shards of pools shared across layers (MoS).',
  }),
  factorization: def<Factorization>('factorization', {
    type: 'string', enum: [...FACTORIZATIONS],
    description: 'lowrank: the form of the update between A and B. ab: B·A (LoRA); ldu: P·L·diag(z)·U from the LU decomposition of the weight, only the diagonal and a scale trained (LoLDU); tucker: a core between factor matrices (FLoRA); triangular: a block-triangular core that grows (TriAdaptLoRA).',
  }),
  branches: def<Branches>('branches', {
    type: 'string', enum: [...BRANCHES],
    description: 'lowrank: single, or parallel+sequential — one branch from the projection\'s input x and one from its output h, summed (Hydra).',
  }),
  sequential_rank: def<number>('sequential_rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'lowrank with branches: parallel+sequential: the rank of the sequential branch (default: rank).' }),
  bias: def<boolean>('bias', { type: 'boolean', description: 'lowrank: A and B carry biases, Δh = (u·Aᵀ + a)·Bᵀ + b (Hydra\'s vision variant).' }),
  experts: def<number | number[]>('experts', {
    type: ['integer', 'array'], minimum: 1, maximum: 256, maxItems: 1024, items: { type: 'integer', minimum: 1, maximum: 256 },
    'x-expected': 'a number of experts, or one per layer (a shorter list is spread evenly over the layers)',
    description: 'lowrank: LoRA experts per site with a top-k router (MoLA). A list gives each layer its count, e.g. [2, 4, 6, 8] over four equal groups of layers.',
  }),
  top_k: def<number>('top_k', { type: 'integer', minimum: 1, maximum: 256, description: 'lowrank: how many experts a token uses (experts > 1), or how many bank vectors make one sub-vector (basis: bank); softmax over the k largest logits.' }),
  balance_loss: def<number>('balance_loss', { type: 'number', minimum: 0, description: 'lowrank with experts: weight of the router\'s load-balancing loss (MoLA: 0.001).' }),
  num_basis: def<number | [number, number]>('num_basis', {
    type: ['integer', 'array'], minimum: 1, maximum: MAX_SIZE, minItems: 2, maxItems: 2, items: { type: 'integer', minimum: 1, maximum: MAX_SIZE },
    'x-expected': 'k, or [k, l] for A and B',
    description: 'lowrank basis: combination (NOLA): random basis matrices per factor, k for A and l for B (one number: both).',
  }),
  num_vectors: def<number>('num_vectors', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'lowrank basis: bank (VB-LoRA): vectors in the shared bank.' }),
  vector_length: def<number>('vector_length', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'lowrank basis: bank (VB-LoRA): length of a bank vector; every adapted dimension must be a multiple of it.' }),
  save_only_topk: def<boolean>('save_only_topk', { type: 'boolean', description: 'lowrank basis: bank (VB-LoRA): store each logits row as its top-k indices and k − 1 weights instead of the logits (peft\'s save_only_topk_weights; for inference only).' }),
  shards_per_vector: def<number>('shards_per_vector', { type: 'integer', minimum: 1, maximum: 256, description: 'lowrank basis: shards (MoS): shards concatenated into one rank vector (vector sharding); dimensions must be multiples of it.' }),
  pool_rank: def<number>('pool_rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'lowrank basis: shards (MoS): the pool\'s size per layer in equivalent LoRA ranks (the parameter budget; rank is what each layer sees).' }),
  private_rank: def<number>('private_rank', { type: 'integer', minimum: 0, maximum: MAX_SIZE, description: 'lowrank basis: shards (MoS): ranks per layer drawn from shards only that layer uses (shard privatization).' }),
  d_initial: def<number>('d_initial', { type: 'number', description: 'lowrank basis: shared (VeRA): initial value of the scaling vector λ_d (λ_b starts at 0).' }),
  projection_seed: def<number>('projection_seed', {
    type: 'integer', minimum: 0, maximum: 4294967295,
    description: 'The seed random bases and projections are regenerated from (VeRA, NOLA, MoS index draws, subspace): stored in the adapter config instead of the tensors.',
  }),
  save_projection: def<boolean>('save_projection', { type: 'boolean', description: 'Store the regenerated random tensors in the adapter file too (as Python peft\'s VeRA does by default), not only their seed.' }),
  core: def<number[]>('core', {
    type: 'array', minItems: 2, maxItems: 8, items: { type: 'integer', minimum: 1, maximum: MAX_SIZE },
    'x-expected': 'the core\'s size per mode: [input side, output side] for a projection, optionally [in, out, kh, kw] at a convolution',
    description: 'lowrank factorization: tucker (FLoRA): the core tensor\'s shape, one rank per mode (default [rank, rank]; at a convolution kernel the kh and kw modes default to min(k, 2)).',
  }),
  corda_mode: def<'kpm' | 'ipm'>('corda_mode', {
    type: 'string', enum: ['kpm', 'ipm'],
    description: 'lowrank with init: corda: kpm trains the r smallest components of the context-oriented decomposition (knowledge-preserved), ipm the r largest (instruction-previewed).',
  }),
  calibration_batches: def<number>('calibration_batches', { type: 'integer', minimum: 1, maximum: 4096, description: 'init: corda: training batches whose inputs give each projection\'s covariance.' }),
  rank_schedule: def<RankSchedule>('rank_schedule', {
    type: 'string', enum: [...RANK_SCHEDULES],
    description: 'The rank over time. fixed; prune (svd: AdaLoRA\'s budget, pruned by importance); grow (svd: IncreLoRA, lowrank with factorization: triangular: TriAdaptLoRA — ranks added by importance until target_rank·modules is reached).',
  }),
  grow_by: def<number>('grow_by', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'rank_schedule: grow: ranks a module gains when it grows.' }),
  grow_modules: def<number | 'linear' | 'nonlinear'>('grow_modules', {
    type: ['integer', 'string'], minimum: 1, 'x-expected': 'a number, linear or nonlinear',
    pattern: '^(linear|nonlinear)$',
    description: 'rank_schedule: grow: how many modules grow at each allocation: a number (the top-scoring ones, IncreLoRA\'s top_h), or linear / nonlinear in training progress (TriAdaptLoRA).',
  }),
  max_rank: def<number>('max_rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'rank_schedule: grow: the largest rank one module may reach (space is reserved for it).' }),
  dimension: def<number>('dimension', { type: 'integer', minimum: 1, maximum: 16777216, description: 'subspace: the intrinsic dimension d (the only trainable numbers).' }),
  projection: def<'dense' | 'fastfood'>('projection', {
    type: 'string', enum: ['dense', 'fastfood'],
    description: 'subspace: the random projection P from d to the weights: dense Gaussian (unit-norm columns) or Fastfood (H·G·Π·H·B, O(D log D)).',
  }),
  subadapters: def<{ count: number; share: 'down' | 'none' } | null>('subadapters', {
    type: ['object', 'null'], 'x-expected': '{count: 4, share: down} or null',
    description: 'bottleneck: Split & Merge (MoSA): the adapter\'s weights are split into `count` disjoint sparse sub-adapters, one drawn at random per forward in training, merged (their mean) for evaluation and in the saved adapter. share: down keeps one dense down-projection (the authors\' default), none splits both.',
    properties: {
      count: { type: 'integer', minimum: 2, maximum: 64, description: 'Number of sub-adapters (MoSA\'s experts).' },
      share: { type: 'string', enum: ['down', 'none'], description: 'down: one dense down-projection shared by all; none: split it too.' },
    },
    required: ['count', 'share'], additionalProperties: false,
  }),
  orthogonal: def<{ slot: number; seed?: number }>('orthogonal', {
    type: 'object', 'x-expected': '{slot: i, seed: s}',
    description: 'lowrank: Orthogonal Adaptation (Po et al., CVPR 2024). lora_A is frozen to rows slot·r … (slot + 1)·r − 1 of an orthogonal basis of each site\'s input space drawn from `seed`, and only lora_B trains: adapters trained with different slots of one seed have updates that are exactly orthogonal, so they merge (summed) without crosstalk. At most ⌊in / r⌋ slots fit a site.',
    properties: {
      slot: { type: 'integer', minimum: 0, maximum: MAX_SIZE, description: 'Which r basis vectors this adapter takes (give each adapter to be merged its own).' },
      seed: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'The shared basis (default 0): adapters meant to merge use the same seed.' },
    },
    required: ['slot'], additionalProperties: false,
  }),
  quantize_bits: def<1 | 2 | 4 | 8>('quantize_bits', {
    type: 'integer', enum: [1, 2, 4, 8],
    description: 'lowrank: train lora_A and lora_B through b-bit fake quantisation with the straight-through estimator (the precision-redundancy paper\'s Bi-LoRA: per-tensor mean/std and an N(0,1) median codebook); the saved adapter keeps the latent weights, and peft compress --method quantize --bits b packs it to exactly the weights it trained with.',
  }),
  n_tasks: def<number>('n_tasks', {
    type: 'integer', minimum: 1, maximum: MAX_LENGTH,
    description: 'poly / mtlora: tasks the module routes among (default: the recipe\'s tasks; task ids are 0 … n_tasks − 1).',
  }),
  n_skills: def<number>('n_skills', { type: 'integer', minimum: 1, maximum: MAX_LENGTH, description: 'poly: LoRA modules in the skill inventory each task mixes.' }),
  n_splits: def<number>('n_splits', {
    type: 'integer', minimum: 1, maximum: MAX_LENGTH,
    description: 'poly: blocks of the input and output features routed separately (1: Poly; > 1: multi-head routing, MHR).',
  }),
  task_rank: def<number>('task_rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'mtlora: rank of each task-specific low-rank module.' }),
  shared_scale: def<number>('shared_scale', { type: 'number', exclusiveMinimum: 0, description: 'mtlora: multiplier of the task-agnostic update (used as given, not divided by the rank).' }),
  task_scale: def<number>('task_scale', { type: 'number', exclusiveMinimum: 0, description: 'mtlora: multiplier of each task-specific update (used as given).' }),
  shared_mode: def<'matrix' | 'matrixv2' | 'addition'>('shared_mode', {
    type: 'string', enum: ['matrix', 'matrixv2', 'addition'],
    description: 'mtlora, at its task-specific layers: matrix (a task\'s row gets its task update only), matrixv2 (shared + task update), addition (no shared module; task outputs as in matrix).',
  }),
  task_layers: def<number>('task_layers', {
    type: 'integer', minimum: 0, maximum: MAX_LENGTH,
    description: 'mtlora: the top layers that also get task-specific modules (MTLoRA: the last block of each stage); the layers below have the task-agnostic one only.',
  }),
  n_experts: def<number>('n_experts', { type: 'integer', minimum: 1, maximum: 64, description: 'mixture: domain adapters mixed with the FFN output by the gate.' }),
  gate_hidden: def<number>('gate_hidden', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'mixture: width of the gate\'s MLP (MixDA\'s code: 768).' }),
  gate_layers: def<number>('gate_layers', { type: 'integer', minimum: 1, maximum: 16, description: 'mixture: hidden layers of the gate\'s MLP (MixDA: 3).' }),
  gate_input: def<'last' | 'mean'>('gate_input', {
    type: 'string', enum: ['last', 'mean'],
    description: 'mixture: what the gate reads — the last position (MixDA\'s code; a padding position for rows shorter than their batch) or the mean over positions.',
  }),
  init_text: def<string>('init_text', { type: 'string', description: 'prompt with init: text — the text whose token embeddings initialise the prompt.' }),
} as const;

/** `init` and `dropout` belong to every function; their schemas live here with the others. */
export const COMMON_OPTION_SCHEMAS: Record<'init' | 'dropout', OptionSchema> = {
  init: { type: 'string', enum: [...INIT_KINDS], description: 'Initialisation of the module\'s parameters (each function lists the ones it takes: `peft methods` shows them).' },
  dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'Dropout on the module\'s input.' },
};
