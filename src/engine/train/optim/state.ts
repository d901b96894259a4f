// Optimizer state ⇄ the two files a checkpoint holds: a safetensors file of the buffers
// (`<param>.<buffer>`, e.g. `…lora_A.weight.exp_avg`) and a JSON file of everything else, which
// also records which tensor is which, so names with dots are never parsed back.
import { PeftError } from '../../../errors.js';
import type { OptimizerName, OptimizerState, ParamState, TensorData } from './optimizer.js';

/** The JSON half of a saved optimizer state. */
export interface OptimizerStateMeta {
  name: OptimizerName;
  stepCount: number;
  /** Per parameter: its step, and for each buffer the key of its tensor in the safetensors file. */
  params: Record<string, { step: number; buffers: Record<string, string> }>;
}

/** Splits a state into JSON-able metadata and named tensors (the tensors share the state's arrays). */
export function splitOptimizerState(state: OptimizerState): { meta: OptimizerStateMeta; tensors: Map<string, TensorData> } {
  const tensors = new Map<string, TensorData>();
  const params: OptimizerStateMeta['params'] = {};
  for (const [name, p] of Object.entries(state.params)) {
    const buffers: Record<string, string> = {};
    for (const [b, t] of Object.entries(p.buffers)) {
      const key = `${name}.${b}`;
      tensors.set(key, t);
      buffers[b] = key;
    }
    params[name] = { step: p.step, buffers };
  }
  return { meta: { name: state.name, stepCount: state.stepCount, params }, tensors };
}

/** The inverse of splitOptimizerState. Throws FORMAT if the metadata names a tensor that is missing. */
export function joinOptimizerState(meta: OptimizerStateMeta, tensors: Map<string, TensorData>, where?: string): OptimizerState {
  const params: Record<string, ParamState> = {};
  for (const [name, p] of Object.entries(meta.params)) {
    const buffers: Record<string, TensorData> = {};
    for (const [b, key] of Object.entries(p.buffers)) {
      const t = tensors.get(key);
      if (t === undefined) {
        throw new PeftError('FORMAT', `optimizer state names tensor ${key}, which the file does not hold`, {
          where,
          hint: 'the checkpoint is incomplete; resume from an earlier one',
        });
      }
      buffers[b] = t;
    }
    params[name] = { step: p.step, buffers };
  }
  return { name: meta.name, stepCount: meta.stepCount, params };
}
