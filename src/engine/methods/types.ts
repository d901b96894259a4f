// How a function kind (lowrank, bottleneck, prefix, …) plugs into the injector.
import type { Container } from '../nn/module.js';
import type { Attachment } from '../nn/context.js';
import type { SiteInfo, TaskModel } from '../backbones/types.js';
import type { FunctionKind, ModulePlan } from '../../recipes/types.js';
import type { InitFn } from './init.js';

export interface BuildContext {
  plan: ModulePlan;
  /** The sites this module attaches to (already matched by position and layer). */
  sites: SiteInfo[];
  model: TaskModel;
  /** Where the module registers its parameters: names become `<site path>.<module name>.<param>`. */
  store: Container;
  seed: number;
  /** Initialises a parameter (seeded from the recipe), or nothing when only shapes are wanted. */
  init: InitFn;
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
  storedTensors?(): Map<string, import('@tensorflow/tfjs-core').Tensor>;
  /**
   * Called after every optimizer step (AdaLoRA's rank allocation). `grads` are the step's
   * gradients by parameter name (owned by the caller: do not dispose).
   */
  afterStep?(info: { step: number; totalSteps: number; grads: Map<string, import('@tensorflow/tfjs-core').Tensor> }): void;
  /** A regulariser added to the task loss in training (AdaLoRA's orthogonality penalty). */
  extraLoss?(): import('@tensorflow/tfjs-core').Scalar | null;
  /**
   * Training state that is neither a parameter nor optimizer state (AdaLoRA's importance
   * scores and rank pattern), so that a resumed run continues exactly: JSON `meta` and
   * float32 arrays by name.
   */
  trainingState?(): MethodTrainingState;
  /** Restores what `trainingState` returned (`read` gives null for a name it lacks). */
  restoreTrainingState?(meta: unknown, read: (name: string) => Float32Array | null): void;
}

export interface MethodTrainingState {
  meta: unknown;
  arrays: Map<string, Float32Array>;
}

export interface FunctionBuilder {
  kind: FunctionKind;
  build(c: BuildContext): BuiltModule;
}
