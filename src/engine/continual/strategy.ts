// What a continual-learning strategy is to the stream driver: the phases each stage trains in
// (which parameters learn, on which batches, for how many of the stage's epochs), what happens
// after each optimizer step and after each stage, how it predicts, and the state it keeps (sets
// of parameter values) for checkpoints and for evaluating the run later.
import type * as tf from '@tensorflow/tfjs-core';
import type { Plan, StreamPlan, TaskEntryPlan } from '../../plan/index.js';
import type { Param } from '../nn/module.js';
import type { Batch, TrainBatches } from '../data/batches.js';
import type { TaskModel } from '../backbones/types.js';
import type { PeftModel } from '../methods/inject.js';
import type { ParamSet } from './param-sets.js';
import type { TaskData } from '../multitask/task-data.js';
import type { TaskBatches } from '../multitask/task-batches.js';

/** One trainLoop call of a stage. */
export interface Phase {
  /** Its directory under the stage's: stages/<k>-<task>/<name>/ (checkpoints). */
  name: string;
  /** Which of the session's trainable parameters learn in this phase. */
  trains(name: string): boolean;
  /** Fraction of the stage's training (epochs or steps) this phase takes (default 1). */
  share?: number;
  /** Batches in place of the stage's (its task and the replay memory). */
  data?: TrainBatches;
  /** A language-modelling stage: the loss is the causal LM's (mixda's domain stages). */
  lm?: boolean;
  /** Before the phase trains (after a resume too: must be repeatable). */
  enter?(): void;
  /** After it trained. */
  leave?(): void;
}

/** What a strategy works with: the model, its parameters by role, the plan. */
export interface StreamModel {
  plan: Plan & { stream: StreamPlan; tasks: TaskEntryPlan[] };
  model: TaskModel;
  peft: PeftModel;
  /** The method's modules' parameters (the PET modules). */
  pet: ReadonlyMap<string, Param>;
  /** The task head's parameters. */
  head: ReadonlyMap<string, Param>;
  /** Head logits [B, C] of one forward pass with the parameters as they are now. */
  forward(b: Batch): tf.Tensor2D;
  /** The pooled representation [B, D] the head reads (prototypes), same pass. */
  features(b: Batch): tf.Tensor2D;
}

/** A stage's batches: its task's (over the classes it trains on), and the replay memory of earlier tasks. */
export interface StageData {
  current: TaskBatches;
  memories: TaskBatches[];
  /** What the stage trains on by default: the current task mixed with the memories. */
  batches: TrainBatches;
}

export interface StrategyState {
  meta: Record<string, unknown>;
  sets: Record<string, ParamSet>;
}

export interface Strategy {
  readonly name: string;
  /** The phases of stage k (its task `entry`), in order. */
  phases(k: number, entry: TaskEntryPlan, data: StageData): Phase[];
  /** After every optimizer step of stage k (LAE's accumulation, MOS's merge). */
  afterStep?(k: number): void;
  /** After stage k trained, with its task's data (snapshots, prototypes). */
  afterStage?(k: number, entry: TaskEntryPlan, data: TaskData): void;
  /**
   * Head logits [B, C] of a batch of a task seen so far (its `classes` say which columns count), or
   * undefined for one plain forward pass. `stages`: how many stages have trained.
   */
  classLogits?(b: Batch, stages: number): tf.Tensor2D;
  /** Runs a task's evaluation in the state its inference needs (mixda: a domain task with its own adapter). */
  around?<T>(entry: TaskEntryPlan, fn: () => T): T;
  state(): StrategyState;
  restore(state: StrategyState): void;
}

/** Sequential fine-tuning (method full) or sequential LoRA (a PET method): each task in turn, nothing kept. */
export function sequentialStrategy(): Strategy {
  return {
    name: 'sequential',
    phases: () => [{ name: 'train', trains: () => true }],
    state: () => ({ meta: {}, sets: {} }),
    restore: () => undefined,
  };
}
