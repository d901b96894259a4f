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
}

function def<T>(key: string, schema: OptionSchema): OptionDef<T> {
  return {
    key, schema,
    use: (fallback) => ({ key, schema, fallback }),
    optional: () => ({ key, schema, fallback: undefined }),
  };
}

/** Sizes a recipe may ask for before anything checks them against a model: generous, but finite. */
export const MAX_SIZE = 65536;
export const MAX_LENGTH = 4096;

export const NONLINEARITIES: readonly Nonlinearity[] = ['relu', 'gelu', 'gelu_new', 'tanh', 'silu', 'swish', 'sigmoid', 'identity'];
export const INIT_KINDS: readonly InitKind[] = ['lora', 'bert', 'zero', 'gaussian', 'ones', 'random', 'uniform', 'vocab', 'text'];

export const OPTIONS = {
  rank: def<number>('rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'Rank r of lowrank / hadamard / svd modules.' }),
  alpha: def<number>('alpha', {
    type: 'number', exclusiveMinimum: 0,
    description: 'Scaling numerator of lowrank / hadamard / svd: s = alpha / rank (alpha / sqrt(rank) with rslora).',
  }),
  rslora: def<boolean>('rslora', { type: 'boolean', description: 'Rank-stabilised LoRA: scale by alpha / sqrt(rank).' }),
  dora: def<boolean>('dora', { type: 'boolean', description: 'DoRA: decompose the adapted weight into magnitude and direction (projections only).' }),
  target_rank: def<number>('target_rank', { type: 'integer', minimum: 1, maximum: MAX_SIZE, description: 'svd (AdaLoRA): the average rank left after budget pruning.' }),
  tinit: def<number>('tinit', { type: 'integer', minimum: 0, description: 'svd (AdaLoRA): steps of warmup before rank pruning starts.' }),
  tfinal: def<number>('tfinal', { type: 'integer', minimum: 0, description: 'svd (AdaLoRA): final steps with the rank budget fixed.' }),
  delta_t: def<number>('delta_t', { type: 'integer', minimum: 1, description: 'svd (AdaLoRA): steps between two budget allocations.' }),
  beta1: def<number>('beta1', { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'svd (AdaLoRA): EMA coefficient of the importance scores.' }),
  beta2: def<number>('beta2', { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'svd (AdaLoRA): EMA coefficient of the importance uncertainty.' }),
  orth_reg: def<number>('orth_reg', { type: 'number', minimum: 0, description: 'svd (AdaLoRA): weight of the orthogonality regulariser.' }),
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
  factorization: def<'ab' | 'tucker'>('factorization', {
    type: 'string', enum: ['ab', 'tucker'],
    description: 'lowrank: how the update is factored. ab: ΔW = B·A (LoRA; at a convolution A is a k×k convolution to r channels and B a 1×1 one, as Python peft\'s Conv2d LoRA); tucker: a core tensor times one factor matrix per weight dimension (FLoRA, N-dimensional for convolution kernels).',
  }),
  core_ranks: def<number[]>('core_ranks', {
    type: 'array', items: { type: 'integer', minimum: 1, maximum: MAX_SIZE }, minItems: 2, maxItems: 4,
    description: 'lowrank with factorization: tucker — the core\'s size per weight dimension: [in, out] for projections, [in, out, kh, kw] for convolutions (default: rank, rank and, for kernels, min(k, 2)).',
  }),
  init_text: def<string>('init_text', { type: 'string', description: 'prompt with init: text — the text whose token embeddings initialise the prompt.' }),
} as const;

/** `init` and `dropout` belong to every function; their schemas live here with the others. */
export const COMMON_OPTION_SCHEMAS: Record<'init' | 'dropout', OptionSchema> = {
  init: { type: 'string', enum: [...INIT_KINDS], description: 'Initialisation of the module\'s parameters (each function lists the ones it takes: `peft methods` shows them).' },
  dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, description: 'Dropout on the module\'s input.' },
};
