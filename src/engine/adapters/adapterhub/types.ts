// Types of the AdapterHub reader: one translator per AdapterHub architecture turns its config into
// our modules (as a recipe writes them) and, once they are injected, names the file's tensors
// that fill their parameters.
import type * as tf from '@tensorflow/tfjs-core';
import type { Param } from '../../nn/module.js';
import type { TaskModel } from '../../backbones/types.js';
import type { InjectedModule } from '../../methods/inject.js';

export interface HubContext {
  model: TaskModel;
  /** The adapter's name, as it appears inside tensor names (`…adapters.<name>.…`). */
  adapter: string;
  /** The `adapters` library version that wrote the directory. */
  version: [number, number, number];
  warnings: string[];
}

/** One tensor of adapter.safetensors and the parameters it fills. */
export interface Binding {
  /** Its name in the file, then other names the library also saves it under. */
  names: string[];
  shape: number[];
  /** Sets the parameters from the file's values (takes ownership of `t`). */
  set(t: tf.Tensor): void;
}

export interface HubModule {
  /** Our module name, unique within the method (`adapter`, `prefix`, `lora`, …). */
  name: string;
  /** The module as a recipe writes it under `method.modules.<name>` (design dimensions). */
  spec: Record<string, unknown>;
  /** The file's tensors for this module, once injected. `params`: the PEFT store by full name. */
  bindings(inj: InjectedModule, params: Map<string, Param>): Binding[];
}

/** `name` → the parameter, or a FORMAT error naming what is missing. */
export type ParamLookup = Map<string, Param>;
