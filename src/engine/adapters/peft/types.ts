import type * as tf from '@tensorflow/tfjs-core';
import type { MethodPlan, TaskType } from '../../../plan/index.js';
import type { PeftModel } from '../../methods/inject.js';
import type { TaskModel } from '../../backbones/types.js';
import type { SelectionLayout } from '../../selection/index.js';

/** Our own `peft_type` for adapters Python peft has no type for (bottleneck, parallel, MAM, mixes). */
export const UNIFIED_PEFT_TYPE = 'UNIFIED_VIEW';

export const PEFT_TASK_TYPES: Record<TaskType, string | null> = {
  'causal-lm': 'CAUSAL_LM',
  'seq-cls': 'SEQ_CLS',
  regression: 'SEQ_CLS',
  'token-cls': 'TOKEN_CLS',
  seq2seq: 'SEQ_2_SEQ_LM',
  'image-cls': null,
  'audio-cls': null,
  'clip-cls': null,
};

/** Python peft's task types whose task head it saves by itself (modules_to_save is implied). */
export const HEAD_TASK_TYPES = ['SEQ_CLS', 'TOKEN_CLS', 'QUESTION_ANS'];

/** Keys every peft config may carry (PeftConfig's own). */
export const COMMON_KEYS = [
  'base_model_name_or_path', 'revision', 'peft_type', 'task_type', 'inference_mode', 'auto_mapping', 'peft_version',
] as const;

/** One tensor of adapter_model.safetensors and how it maps onto the injected modules. */
export interface AdapterEntry {
  /** Name in the file. */
  name: string;
  /** Shape in the file. */
  shape: number[];
  /** dtype in the file when it is not F32 (integer indices). */
  dtype?: 'U8' | 'I16' | 'I32' | 'I64';
  /** Other names the same tensor has had (older peft versions); read when `name` is absent. */
  aliases?: string[];
  /** Absent from the file is not an error (a warning): the task head of Python peft's SEQ_CLS. */
  optional?: boolean;
  /** The current values in the file's layout (a new tensor: the caller disposes it). */
  get(): tf.Tensor;
  /** Sets the parameters from values in the file's layout (takes ownership). */
  set(t: tf.Tensor): void;
}

/** How one `peft_type` reads and writes: config ↔ method plan, tensors ↔ parameters. */
export interface AdapterFormat {
  type: string;
  /** Prompt-learning types (prefix, prompt) keep the task head under `base_model.` rather than `base_model.model.`. */
  promptLearning: boolean;
  /** Config keys it reads, beyond COMMON_KEYS (any other key: a warning, not a failure). */
  keys: readonly string[];
  /** Whether this type expresses the injected method exactly (Python peft would compute the same). */
  expresses(peft: PeftModel): boolean;
  config(peft: PeftModel, baseModel: string, backboneNames: string[]): Record<string, unknown>;
  method(model: TaskModel, cfg: Record<string, unknown>, warnings: string[]): { method: MethodPlan; backboneNames: string[]; selectionLayout?: SelectionLayout };
  entries(peft: PeftModel, backboneNames: string[]): AdapterEntry[];
}
