// The optimizer contract shared by AdamW, Adam, SGD and Lion, and the shape of their state.
// An optimizer updates a fixed set of named tf.Variables (the trainable set) from a map of
// gradients keyed by the same names. Its state is plain data (Float32Array moments plus step
// counts) so that a checkpoint can write it as safetensors + JSON and load it back exactly.
import type * as tf from '@tensorflow/tfjs-core';
import type { OptimizerPlan } from '../../../plan/index.js';

export type OptimizerName = OptimizerPlan['name'];

/** One parameter group of the recipe: parameters whose name matches get these settings. */
export interface ParamGroupSpec {
  /** A substring of the parameter name, or `/regex/flags`. */
  match: string;
  lr?: number;
  weightDecay?: number;
}

/** A float32 tensor as plain data, row-major. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** What an optimizer keeps for one parameter (absent until the parameter's first update). */
export interface ParamState {
  /** Updates this parameter has received (torch keeps it per parameter; Adam's bias correction uses it). */
  step: number;
  /** Buffers by name (`exp_avg`, `exp_avg_sq`, `momentum_buffer`), torch's names. */
  buffers: Record<string, TensorData>;
}

/** The whole resumable state of an optimizer. */
export interface OptimizerState {
  name: OptimizerName;
  /** Number of `step()` calls. */
  stepCount: number;
  /** Per parameter name, for every parameter updated at least once. */
  params: Record<string, ParamState>;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /**
   * One update of every parameter that has a gradient in `grads` (others are left alone, as
   * torch skips a parameter whose `.grad` is None). `lrScale` multiplies every group's lr: it is
   * the schedule's factor for this step. The caller keeps ownership of `grads`.
   */
  step(grads: Map<string, tf.Tensor>, lrScale?: number): void;
  /** A deep copy of the state: later steps do not change it. */
  state(): OptimizerState;
  /** Replace the state (copied in). Throws PeftError FORMAT if it does not fit these parameters. */
  load(state: OptimizerState): void;
  readonly stepCount: number;
  /** Frees the optimizer's buffers (not the parameters). */
  dispose(): void;
}
