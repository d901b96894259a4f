// The plan contract: the types that cross from recipes to the engine. The Plan is plain,
// JSON-serialisable data — nothing optional left undecided, every path absolute. It is what
// `--dry-run` prints, what `recipe.resolved.yaml` records, and all the engine ever sees of a recipe.
import type { Composition, FunctionKind, Heads, Insertion, LayerSelector, OptionsOf } from './functions/index.js';
import type { SelectBudget, SelectCriterion, SelectOptionsOf, SelectScope } from './selection/index.js';

export type { Composition, FunctionKind, Heads, Insertion, LayerSelector, InitKind, Nonlinearity, OptionsOf } from './functions/index.js';
export type { SelectBudget, SelectCriterion, SelectOptionsOf, SelectScope } from './selection/index.js';

export const TASK_TYPES = ['causal-lm', 'seq-cls', 'regression', 'token-cls', 'seq2seq', 'image-cls', 'audio-cls', 'clip-cls'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

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

/** What every selection plan has, whatever its criterion. */
export interface SelectBase {
  /** Preset it came from, if any (informational). */
  preset?: string;
  /** The projections whose weights it chooses from. */
  positions: string[];
  /** The positions are the default list: the ones a backbone lacks (gate_proj, qkv, …) are skipped. */
  defaultPositions: boolean;
  layers: LayerSelector;
  /** How many entries may train (null: the criterion's rule decides, as half and learned do). */
  budget: SelectBudget | null;
  scope: SelectScope;
}

/**
 * Which existing backbone weights (or which of their entries) train, by a criterion within a
 * budget: a union keyed on `criterion`, each criterion's options typed from its table entry.
 */
export type SelectPlan = { [C in SelectCriterion]: SelectBase & { criterion: C; options: SelectOptionsOf<C> } }[SelectCriterion];

/** A selection of criterion C. */
export type SelectPlanOf<C extends SelectCriterion> = Extract<SelectPlan, { criterion: C }>;

export interface MethodPlan {
  /** Preset name if the recipe named one (e.g. 'lora', 'mam'); otherwise 'custom'. */
  preset: string;
  modules: ModulePlan[];
  unfreeze: UnfreezePlan[];
  /** Train the task head (classification tasks). */
  trainHead: boolean;
  /** The selection dimension: which backbone weights' entries train (absent: none). */
  select?: SelectPlan;
}

export interface DataSplitPlan {
  path: string;
  format: 'text' | 'jsonl' | 'csv' | 'tsv' | 'parquet' | 'idx';
  limit: number | null;
  /** Seeded split of one file: take this fraction (from `split: {from: train, fraction: 0.1}`). */
  split: { of: string; fraction: number; part: 'head' | 'tail' } | null;
  /** This split's own column mapping (`data.train.columns`), merged over `data.columns`. */
  columns?: Record<string, string>;
  /**
   * A task cut from one labelled set by class (`stream.split`): rows are read in the whole set's
   * label space (`labels` / `count`), rows of classes outside `keep` are left out, and the kept
   * ones are relabelled by their place in `keep`. Absent: every row.
   */
  classes?: { keep: number[]; labels: string[] | null; count: number };
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
  /** Multi-task recipes: which task each optimizer step's batch comes from (absent for one task). */
  sampling?: SamplingPlan;
}

/** How a multi-task run picks the task of each batch (one task per batch). */
export interface SamplingPlan {
  /** proportional: p_t ∝ n_t (examples); temperature: p_t ∝ n_t^(1/T); round-robin: tasks in turn. */
  rule: 'proportional' | 'temperature' | 'round-robin';
  /** T of the temperature rule (1 is proportional, large T approaches uniform). */
  temperature: number;
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

/**
 * One task of a multi-task recipe or a stream, decided: its own task, data and metrics (the
 * recipe's top-level `task:`, `data:` and `eval:` are the defaults each entry is laid over).
 */
export interface TaskEntryPlan {
  name: string;
  /** Its index in `Plan.tasks`: the task id methods that route (Poly, MHR, MTLoRA) see. */
  id: number;
  task: TaskPlan;
  data: DataPlan;
  /** Its evaluation metrics; the first is its score (the multi-task mean, the stream's matrix). */
  metrics: string[];
  /**
   * The shared head's columns of its labels, in its label order (classification tasks: the
   * recipe's tasks' labels laid out one task after another, or a split's own class ids); []
   * for language modelling.
   */
  headClasses: number[];
}

export type ContinualStrategy = 'sequential' | 'lae' | 'conpet' | 'mos' | 'mixda';

/** LAE (Gao et al. 2023): online modules learn, offline ones accumulate them, an ensemble predicts. */
export interface LaePlan {
  /** EMA decay of the offline modules, per optimizer step (their code: 0.9999). */
  decay: number;
  /** Epochs of each later stage with the online modules frozen (head only; their code: 3). */
  freezeEpochs: number;
  /** max: element-wise max of the two experts' softmax (their code); online / offline: one expert. */
  ensemble: 'max' | 'online' | 'offline';
}

/** ConPET (Song et al. 2023), Dynamic: a PET module per task and a selector that picks the top-k. */
export interface ConpetPlan {
  topk: number;
  /** Replace the lowest-ranked selected task by the true one in training (their --teacher_forcing). */
  teacherForcing: boolean;
  /** The logit of labels of unselected tasks (their null_expert_logit). */
  nullLogit: number;
  /** The head's columns the selector scores the tasks with, one per task (after every task's labels). */
  selectorClasses: number[];
}

/** MOS (Sun et al. 2025): adapter merging toward earlier stages' mean, self-refined adapter retrieval. */
export interface MosPlan {
  /** m in adapter ← (1 − m)·adapter + m·mean(earlier adapters), after every step of stages ≥ 1. */
  momentum: number;
  /** Adapter evaluations of the retrieval loop at most (their MAX_ITER). */
  maxIter: number;
  /** Add the first adapter's prototype scores to the retrieved adapter's (their default). */
  ensemble: boolean;
}

/** A continual-learning stream: the recipe's tasks trained one after another. */
export interface StreamPlan {
  /** task-incremental: the task is known at test time (its own labels); class-incremental: it is not (every label seen so far). */
  scenario: 'task-incremental' | 'class-incremental';
  /** Task names in training order. */
  order: string[];
  strategy: ContinualStrategy;
  /** Examples of each earlier task kept and mixed into later stages (experience replay); 0: none. */
  replay: number;
  /** After each stage every task seen so far is evaluated on this split. */
  evalSplit: 'validation' | 'test';
  lae: LaePlan | null;
  conpet: ConpetPlan | null;
  mos: MosPlan | null;
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
  /**
   * Multi-task recipes (`tasks:`) and streams: every task, in the recipe's order. `task` is then
   * the shared head's (every classification task's labels, one task after another) and `data`
   * the defaults; absent for a recipe of one task.
   */
  tasks?: TaskEntryPlan[];
  /** A continual-learning stream over `tasks` (absent: joint training). */
  stream?: StreamPlan;
  /**
   * `optimizer.lr: auto` / `training.batch_size: auto`: computed at the start of a run from the
   * Step Law (Li et al. 2025); until then the plan holds NaN there. Absent once computed.
   */
  stepLaw?: StepLawPlan;
}

export interface StepLawPlan {
  lr: boolean;
  batchSize: boolean;
}


/** A JSON path into a recipe document: `['method', 'rank']`, `['data', 'train', 'path']`. */
export type DocPath = (string | number)[];
