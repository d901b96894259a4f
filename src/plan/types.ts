// The plan contract: the types that cross from recipes to the engine. The Plan is plain,
// JSON-serialisable data — nothing optional left undecided, every path absolute. It is what
// `--dry-run` prints, what `recipe.resolved.yaml` records, and all the engine ever sees of a recipe.
import type { Composition, FunctionKind, Heads, Insertion, LayerSelector, OptionsOf } from './functions/index.js';

export type { Composition, FunctionKind, Heads, Insertion, LayerSelector, InitKind, Nonlinearity, OptionsOf } from './functions/index.js';

export type TaskType = 'causal-lm' | 'seq-cls' | 'regression' | 'token-cls' | 'seq2seq' | 'image-cls' | 'audio-cls' | 'clip-cls';

/** What every module plan has, whatever its function. */
export interface ModuleBase {
  /** Module name: appears in inspect output and in adapter tensor names for our own types. */
  name: string;
  /** Preset it came from, if any (informational). */
  preset?: string;
  positions: string[];
  insertion: Insertion;
  composition: Composition;
  /** For `scaled`: a number, or 'learned'. For add/gated: 1. */
  scale: number | 'learned';
  heads: Heads;
  layers: LayerSelector;
}

/** One PEFT module of a method: a union keyed on `function`, so each function's options are typed. */
export type ModulePlan = { [K in FunctionKind]: ModuleBase & { function: K; options: OptionsOf<K> } }[FunctionKind];

/** A module of function K, its options decided by the function's table entry (nothing left to default). */
export type ModulePlanOf<K extends FunctionKind> = Extract<ModulePlan, { function: K }>;

export type UnfreezeTarget = 'all' | 'head' | 'norms' | 'biases' | 'embeddings';

export interface UnfreezePlan {
  target: UnfreezeTarget;
  layers: LayerSelector;
}

export interface MethodPlan {
  /** Preset name if the recipe named one (e.g. 'lora', 'mam'); otherwise 'custom'. */
  preset: string;
  modules: ModulePlan[];
  unfreeze: UnfreezePlan[];
  /** Train the task head (classification tasks). */
  trainHead: boolean;
}

export interface DataSplitPlan {
  path: string;
  format: 'text' | 'jsonl' | 'csv' | 'tsv' | 'parquet' | 'idx';
  limit: number | null;
  /** Seeded split of one file: take this fraction (from `split: {from: train, fraction: 0.1}`). */
  split: { of: string; fraction: number; part: 'head' | 'tail' } | null;
  /** This split's own column mapping (`data.train.columns`), merged over `data.columns`. */
  columns?: Record<string, string>;
}

export interface DataPlan {
  train: DataSplitPlan | null;
  validation: DataSplitPlan | null;
  test: DataSplitPlan | null;
  columns: Record<string, string>;
  maxLength: number;
  packing: boolean;
  /** Training batches from examples of similar length (transformers' group_by_length). */
  groupByLength: boolean;
  onError: 'fail' | 'skip';
}

export interface TaskPlan {
  type: TaskType;
  numLabels: number | null;
  labels: string[] | null;
  pooling: 'last' | 'first' | 'mean' | null;
  labelSmoothing: number;
  /** clip-cls: the prompt templates (with {label}) the zero-shot head is built from. */
  prompts?: string[];
}

export interface TrainingPlan {
  maxSteps: number | null;
  epochs: number | null;
  batchSize: number;
  gradAccum: number;
  maxGradNorm: number | null;
  logEvery: number;
  evalEvery: number | 'epoch' | null;
  checkpointEvery: number | null;
  keepCheckpoints: number;
  dropout: number;
  earlyStopping: { metric: string; patience: number; mode: 'min' | 'max' } | null;
  /** Loss-spike watchdog (always on; defaults factor 10, window 20, stop). */
  lossSpike: { factor: number; window: number; action: 'stop' | 'skip' };
}

export interface OptimizerPlan {
  name: 'adamw' | 'adam' | 'sgd' | 'lion';
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  momentum: number;
  groups: { match: string; lr?: number; weightDecay?: number }[];
}

export interface SchedulePlan {
  name: 'constant' | 'linear' | 'cosine' | 'polynomial';
  warmupSteps: number | null;
  warmupRatio: number | null;
  power: number;
  minLr: number;
}

export interface EvalPlan {
  metrics: string[];
  batchSize: number;
  limit: number | null;
}

export interface GeneratePlan {
  prompt: string;
  maxNewTokens: number;
  strategy: 'greedy' | 'sample' | 'beam';
  temperature: number;
  topK: number;
  topP: number;
  numBeams: number;
  /** beam: hypotheses score sum_logprobs / length ** length_penalty. */
  lengthPenalty: number;
  /** eos is forbidden before this many new tokens. */
  minNewTokens: number;
  /** No n-gram of this size repeats (0: off). */
  noRepeatNgramSize: number;
}

export interface Plan {
  name: string;
  /** Absolute path of the recipe file (null for a recipe built in memory). */
  recipePath: string | null;
  description: string | null;
  seed: number;
  /** imageSize: the input resolution a convolutional backbone runs at (absent: its own);
   *  init 'random': weights initialised from the seed instead of read (absent: pretrained). */
  backbone: { path: string; dtype: 'float32'; imageSize?: number; init?: 'random' };
  task: TaskPlan;
  data: DataPlan;
  method: MethodPlan;
  training: TrainingPlan;
  optimizer: OptimizerPlan;
  schedule: SchedulePlan;
  eval: EvalPlan;
  generate: GeneratePlan | null;
  output: { dir: string };
}


/** A JSON path into a recipe document: `['method', 'rank']`, `['data', 'train', 'path']`. */
export type DocPath = (string | number)[];
