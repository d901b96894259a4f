// Every option a selection criterion can take, defined once with its JSON Schema (the recipe
// schema's `select` properties are generated from these) and its TypeScript type. A criterion's
// table entry picks the options it takes and gives each its default, as the function table does.
import type { OptionSchema } from '../functions/index.js';

export interface SelectOptionUse<T> {
  key: string;
  schema: OptionSchema;
  /** The default when the recipe does not set the option. */
  fallback: T;
  /** Phantom: the option's decided type. */
  readonly _type?: T;
}

function def<T>(key: string, schema: OptionSchema): { key: string; schema: OptionSchema; use(fallback: T): SelectOptionUse<T> } {
  return { key, schema, use: (fallback) => ({ key, schema, fallback }) };
}

export interface Reselect {
  /** Steps between two re-selections; a number below 1 is a fraction of the run's steps. */
  every: number;
  /** How many re-selections at most. */
  times: number;
}

export interface GradientDropout {
  /** λ: the share of each score gradient that the keep test may drop (0: no dropout). */
  lambda: number;
  /** Softmax temperature of the teacher's distribution. */
  temperature: number;
}

export const SELECT_OPTIONS = {
  threshold: def<number | null>('threshold', {
    type: ['number', 'null'], exclusiveMinimum: 0,
    description: 'magnitude: select every entry with |w| < threshold (SaRA\'s absolute rule) instead of a budget.',
  }),
  reselect: def<Reselect | null>('reselect', {
    type: ['object', 'null'], 'x-expected': '{every: steps or a fraction of the run, times: n} or null',
    description: 'magnitude: re-select progressively (SaRA): after `every` steps (below 1: that fraction of the run) the entries whose |w| is no longer below the threshold stop training; at most `times` times.',
    properties: {
      every: { type: 'number', exclusiveMinimum: 0, description: 'Steps between re-selections, or (below 1) a fraction of the run\'s steps.' },
      times: { type: 'integer', minimum: 1, maximum: 1000, description: 'Re-selections at most.' },
    },
    required: ['every'], additionalProperties: false,
  }),
  nuclear: def<number>('nuclear', {
    type: 'number', minimum: 0,
    description: 'magnitude: weight λ of SaRA\'s nuclear-norm (low-rank) constraint λ·‖W ⊙ M‖_* on one selected matrix per step (0: off).',
  }),
  biases: def<boolean>('biases', {
    type: 'boolean', description: 'magnitude, random: select entries of the projections\' biases too (where they have one).',
  }),
  rounds: def<number>('rounds', {
    type: 'integer', minimum: 1, maximum: 1000,
    description: 'half: fine-tuning rounds in the run, each with a fresh draw of the half that trains (HFT); 1: one draw for the whole run.',
  }),
  norms: def<boolean>('norms', { type: 'boolean', description: 'half: also train one of the two norms of each layer (HFT).' }),
  score_threshold: def<number>('score_threshold', {
    type: 'number', exclusiveMinimum: 0, description: 'learned: an entry is kept while its score is above this (R-AMT: 5e-3).',
  }),
  init_score: def<number>('init_score', {
    type: 'number', exclusiveMinimum: 0, description: 'learned: initial score of every entry (R-AMT: 1e-2, above the threshold, so the mask starts all ones).',
  }),
  score_reg: def<number>('score_reg', {
    type: 'number', minimum: 0, description: 'learned: weight of the L2 norm of each score tensor added to the loss (R-AMT: 1e-4).',
  }),
  gdr: def<GradientDropout | null>('gdr', {
    type: ['object', 'null'], 'x-expected': '{lambda: 0.3, temperature: 1} or null',
    description: 'learned: gradient-dropout regularity (R-AMT): score gradients that disagree with the pretrained model\'s (the teacher\'s) are dropped with a probability set by their disagreement. null: off.',
    properties: {
      lambda: { type: 'number', minimum: 0, maximum: 1, description: 'Share of each gradient the keep test may drop.' },
      temperature: { type: 'number', exclusiveMinimum: 0, description: 'Temperature of the teacher distillation term.' },
    },
    additionalProperties: false,
  }),
  batches: def<number>('batches', {
    type: 'integer', minimum: 1, maximum: 10000, description: 'sensitivity: training batches (in file order) whose squared gradients measure each entry\'s sensitivity (SPT).',
  }),
  lora_rank: def<number>('lora_rank', {
    type: 'integer', minimum: 1, maximum: 65536, description: 'sensitivity: rank of the low-rank update given to matrices that hold many sensitive entries (SPT).',
  }),
  lora_factor: def<number>('lora_factor', {
    type: 'number', exclusiveMinimum: 0,
    description: 'sensitivity: a matrix gets the low-rank update when its sensitive entries number at least its LoRA cost / lora_factor (SPT\'s alpha: 10).',
  }),
} as const;

export type SelectOptionKey = keyof typeof SELECT_OPTIONS;
