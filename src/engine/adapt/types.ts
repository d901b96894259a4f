// Test-time adaptation: what a method is and what it gets. A method adapts a trained classifier
// to unlabelled test data — its outputs (LAME), its normalisation statistics (test-time BN,
// α-BN), its normalisation parameters (TENT), or its head through a label-distribution estimate
// (the label-shift adapter) — batch by batch (online) or over the whole test set first (offline,
// where the method's paper defines it). Labels never reach a method: they only score it.
import type { Batch } from '../data/batches.js';
import type { Batcher } from '../data/batches.js';
import type { TaskModel } from '../backbones/types.js';
import type { PeftModel } from '../methods/inject.js';

export type TtaMode = 'online' | 'offline';

/** Settings a method reads (each documents its own defaults). */
export interface TtaSettings {
  /** TENT, label-shift adapter training: learning rate. */
  lr?: number;
  /** TENT: gradient steps per batch (online) or passes over the test set (offline). */
  steps?: number;
  /** α-BN: weight of the source statistics. */
  alpha?: number;
  /** LAME: neighbours of the kNN affinity. */
  knn?: number;
  /** label-shift: momentum of the label-distribution estimate; the TTA method it runs with. */
  momentum?: number;
  base?: 'none' | 'bn-stats' | 'tent';
  seed: number;
}

export interface TtaContext {
  model: TaskModel;
  peft: PeftModel;
  mode: TtaMode;
  settings: TtaSettings;
  classes: number;
  /** The run's training split (label-shift trains its adapter there before deployment). */
  sourceData?: () => Promise<Batcher>;
  /** Messages for the user (what a method decided). */
  note(message: string): void;
}

/** The logits of a batch [B·K] and, when the family gives them, the features the head reads [B·D]. */
export interface BatchOutputs {
  logits: Float32Array;
  features: Float32Array | null;
  dim: number;
}

export interface TtaRunner {
  /** Offline methods: a pass over every test batch before any prediction. */
  prepare?(batches: Iterable<Batch>): Promise<void> | void;
  /** Class probabilities of a batch [B·K], after whatever the method does with it. */
  predict(batch: Batch): Float32Array;
  /** Puts the model back as it was (statistics, parameters). */
  restore(): void;
}

export interface TtaMethod {
  name: string;
  title: string;
  paper: string;
  modes: readonly TtaMode[];
  /** Why the paper defines no offline variant (when it does not). */
  onlineOnly?: string;
  start(ctx: TtaContext): Promise<TtaRunner>;
}
