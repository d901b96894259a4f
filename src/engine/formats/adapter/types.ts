import type { MethodPlan, TaskType } from '../../../recipes/types.js';

/** Our own `peft_type` for adapters Python peft has no type for (bottleneck, parallel, MAM, mixes). */
export const UNIFIED_PEFT_TYPE = 'UNIFIED_VIEW';

export const PEFT_TASK_TYPES: Record<TaskType, string | null> = {
  'causal-lm': 'CAUSAL_LM',
  'seq-cls': 'SEQ_CLS',
  regression: 'SEQ_CLS',
  'token-cls': 'TOKEN_CLS',
  seq2seq: 'SEQ_2_SEQ_LM',
  'image-cls': null,
};

/** An adapter as it goes to or comes from disk. */
export interface AdapterFiles {
  config: Record<string, unknown>;
  /** exported tensor name → values and shape */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** The method an adapter_config.json describes, and how its tensor names map to ours. */
export interface DecodedAdapter {
  method: MethodPlan;
  /** our parameter name → the tensor name in the file (and an optional reshape). */
  names: Map<string, string>;
  warnings: string[];
}
