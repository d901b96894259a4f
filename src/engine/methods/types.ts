// How a function kind (lowrank, bottleneck, prefix, …) plugs into the injector, and what a built
// module may do beyond its forward pass (train-time hooks, saved state, folding into weights).
import type * as tf from '@tensorflow/tfjs-core';
import type { Container } from '../nn/module.js';
import type { Attachment } from '../nn/context.js';
import type { SiteInfo, TaskModel } from '../backbones/types.js';
import type { FunctionKind, ModulePlan, ModulePlanOf } from '../../plan/index.js';
import type { InitFn } from './init.js';

export interface BuildContext<P extends ModulePlan = ModulePlan> {
  /** The module's plan: its options are decided (typed for its function), never re-defaulted here. */
  plan: P;
  /** The sites this module attaches to (already matched by position and layer). */
  sites: SiteInfo[];
  model: TaskModel;
  /** Where the module registers its parameters: names become `<site path>.<module name>.<param>`. */
  store: Container;
  seed: number;
  /** Initialises a parameter (seeded from the recipe), or nothing when only shapes are wanted. */
  init: InitFn;
  /**
   * Whether the module's tensors will be computed with (training, inference, a loaded adapter):
   * then frozen tensors regenerated from a seed or derived from the backbone's weights are made.
   * False for inspection (shapes only, nothing allocated).
   */
  values: boolean;
  /** The backbone's tokenizer without special tokens (prompt `init: text`); absent when none was loaded. */
  tokenize?: (text: string) => number[];
}

export interface BuiltModule {
  attachments: Map<string, Attachment>;
  /** Python peft's prefix tuning shifts real tokens' positions by the prefix length. */
  positionOffset?: number;
  /**
   * Parameters as they are stored in the adapter file, when that differs from the trainable ones
   * (prefix reparameterisation: the MLP trains, its output is stored). name → shape.
   */
  storedShapes?: Map<string, number[]>;
  /** The stored tensors' current values, by the names of `storedShapes` (the caller disposes them). */
  storedTensors?(): Map<string, tf.Tensor>;
  /**
   * Called after every optimizer step (AdaLoRA's rank allocation). `grads` are the step's
   * gradients by parameter name (owned by the caller: do not dispose).
   */
  afterStep?(info: { step: number; totalSteps: number; grads: Map<string, tf.Tensor> }): void;
  /** A regulariser added to the task loss in training (AdaLoRA's orthogonality penalty). */
  extraLoss?(): tf.Scalar | null;
  /**
   * Training state that is neither a parameter nor optimizer state (AdaLoRA's importance
   * scores and rank pattern), so that a resumed run continues exactly: JSON `meta` and
   * float32 arrays by name.
   */
  trainingState?(): MethodTrainingState;
  /** Restores what `trainingState` returned (`read` gives null for a name it lacks). */
  restoreTrainingState?(meta: unknown, read: (name: string) => Float32Array | null): void;
  /**
   * Parameter counts when the shapes of the module's tensors do not say them: ranks that grow
   * into reserved space (the counts at the budget), tensors stored besides the parameters.
   */
  counts?(): { trainable: number; stored: number };
  /**
   * An initialisation from data (CorDA): `batches` forward passes over training batches run
   * between `start` and `finish`, with the module observing its sites' inputs.
   */
  calibration?: Calibration;
}

export interface Calibration {
  /** How many training batches to run (their rows one at a time, unpadded). */
  batches: number;
  start(): void;
  /** Decomposes what was observed and sets the parameters. */
  finish(): void;
}

export interface MethodTrainingState {
  meta: unknown;
  arrays: Map<string, Float32Array>;
}

/** The module of one function kind: builds its attachments at the sites a plan selected. */
export interface FunctionModule<K extends FunctionKind> {
  kind: K;
  build(c: BuildContext<ModulePlanOf<K>>): BuiltModule;
}

/**
 * How an attached module folds into the backbone's weights (`peft merge`), as data the merger
 * applies to the projection the site belongs to — or why it cannot.
 *  - delta: ΔWᵀ [in, out] (scale included) added to the projection producing the site's h;
 *  - filter-delta: the same for a convolution's kernel;
 *  - reweight: the projection's weight W [out, in] → a new W (DoRA);
 *  - scale: a vector that multiplies the representation (rows of the producing projection, or
 *    columns of the consuming one);
 *  - bias: a vector added to the producing projection's bias;
 *  - affine: W and b → new W and b (Hydra's sequential branch, low-rank pairs with biases).
 */
export type WeightFold =
  | { kind: 'delta'; matrix(): tf.Tensor2D }
  /** A convolution's kernel update, as a tfjs filter [kh, kw, in, out] (scale included). */
  | { kind: 'filter-delta'; filter(): tf.Tensor4D }
  | { kind: 'reweight'; weight(w: tf.Tensor2D): tf.Tensor2D }
  | { kind: 'scale'; vector(): tf.Tensor }
  | { kind: 'bias'; vector(): tf.Tensor }
  /**
   * An affine map of the projection: W [out, in] and its bias b → new ones (a sequential branch
   * multiplies W and b; biases inside the module add to b). `addsBias`: b must exist.
   */
  | { kind: 'affine'; addsBias: boolean; apply(w: tf.Tensor2D, b: tf.Tensor1D | null): { w: tf.Tensor2D; b: tf.Tensor1D | null } }
  | { kind: 'refuse'; why: string };

/** A module that can say how it folds (every module class of this folder does). */
export interface Foldable {
  fold(): WeightFold;
}
