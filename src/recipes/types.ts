// Types that cross the recipes → engine boundary. The Plan is plain, JSON-serialisable data:
// nothing optional left undecided, every path absolute. It is what `--dry-run` prints, what
// `recipe.resolved.yaml` records next to it, and all the engine ever sees of a recipe.

/** A parsed-and-merged recipe document, before planning (shape of schemas/recipe.schema.json). */
export type RecipeDoc = Record<string, unknown>;

export type TaskType = 'causal-lm' | 'seq-cls' | 'regression' | 'token-cls' | 'seq2seq' | 'image-cls';

export type FunctionKind = 'lowrank' | 'bottleneck' | 'prefix' | 'scaling' | 'bias' | 'prompt' | 'hadamard' | 'svd';
export type Insertion = 'parallel' | 'sequential';
export type Composition = 'add' | 'scaled' | 'gated';
export type Nonlinearity = 'relu' | 'gelu' | 'gelu_new' | 'tanh' | 'silu' | 'swish' | 'sigmoid' | 'identity';
export type InitKind = 'lora' | 'bert' | 'zero' | 'gaussian' | 'ones' | 'random' | 'uniform' | 'vocab' | 'text';

/** Which layers of each stack a module goes into. Resolved against the backbone's depth by the engine. */
export type LayerSelector =
  | 'all'
  | number[]
  | { from: number; to: number }
  | { top: number }
  | { bottom: number };

/** Function-specific options; which ones apply depends on `function`. */
export interface FunctionOptions {
  rank?: number; // lowrank, hadamard, svd
  alpha?: number; // lowrank, hadamard, svd: s = alpha / rank (alpha / sqrt(rank) with rslora)
  rslora?: boolean;
  dora?: boolean;
  target_rank?: number; // svd (AdaLoRA): final average rank
  bottleneck?: number; // bottleneck
  nonlinearity?: Nonlinearity; // bottleneck
  layernorm?: 'none' | 'before' | 'after'; // bottleneck
  ln_input?: 'none' | 'original'; // bottleneck: `original` reads LN(x + h) with the sublayer's own LN (post-LN, sequential)
  length?: number; // prefix, prompt
  reparam?: { hidden: number } | null; // prefix: MLP reparameterisation
  shift_positions?: boolean; // prefix: real tokens' positions start after the prefix (Python peft)
  init?: InitKind;
  init_text?: string; // prompt init from text
  dropout?: number;
}

export interface ModulePlan {
  /** Module name: appears in inspect output and in adapter tensor names for our own types. */
  name: string;
  /** Preset it came from, if any (informational). */
  preset?: string;
  positions: string[];
  function: FunctionKind;
  insertion: Insertion;
  composition: Composition;
  /** For `scaled`: a number, or 'learned'. For add/gated: 1. */
  scale: number | 'learned';
  heads: 'single' | 'multi';
  layers: LayerSelector;
  options: FunctionOptions;
}

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
  backbone: { path: string; dtype: 'float32' };
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

/** A recipe after load + `extends` + `--set`, with the source position of every value. */
export interface ResolvedRecipe {
  /** The merged document. */
  doc: RecipeDoc;
  /** Absolute path of the recipe named on the command line. */
  file: string;
  /** Every file read, the named recipe first, then what it extends (depth-first). */
  chain: string[];
  /**
   * Where the value at `path` came from: `file:line:col` of its node in the file that won the
   * merge (or the nearest ancestor that has a node), or `--set a.b=c` for an override.
   */
  locate(path: DocPath): string;
  /** Absolute directory against which a relative path found at `path` resolves (its file's dir). */
  baseDir(path: DocPath): string;
}

/** One problem found in a recipe, by the schema or by the planner. */
export interface RecipeIssue {
  /** `file:line:col` (or `--set …`). */
  where: string;
  /** Dotted JSON path: `method.rank`, `data.train.path`, or '' for the document. */
  path: string;
  /** What was expected, and what was found: `must be integer ≥ 1 (got "eight")`. */
  message: string;
  hint?: string;
}
