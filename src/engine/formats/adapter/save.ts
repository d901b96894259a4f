// Writing an adapter directory in the Hugging Face PEFT layout: adapter_config.json +
// adapter_model.safetensors, both atomically.
import { join } from 'node:path';
import { writeSafetensors, type NamedTensor } from '../safetensors.js';
import { writeJsonAtomic } from '../atomic.js';
import type { PeftModel } from '../../methods/inject.js';
import { adapterTypeFor, fileNames } from './codec.js';
import { loraConfigJson } from './lora-config.js';
import { PEFT_TASK_TYPES, UNIFIED_PEFT_TYPE } from './types.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const PEFT_TS_VERSION = '0.1.0';

export interface SaveOptions {
  /** Recorded as base_model_name_or_path. */
  baseModel: string;
  /** Backbone parameters that trained (head, unfrozen layers): saved in full. */
  backboneNames?: string[];
}

export function adapterConfig(peft: PeftModel, opts: SaveOptions): Record<string, unknown> {
  const type = adapterTypeFor(peft);
  if (type === 'LORA') return loraConfigJson(peft, opts.baseModel);
  return {
    peft_type: UNIFIED_PEFT_TYPE,
    task_type: PEFT_TASK_TYPES[peft.model.task],
    base_model_name_or_path: opts.baseModel,
    inference_mode: true,
    modules_to_save: (opts.backboneNames ?? []).length > 0 ? opts.backboneNames : null,
    method: peft.method,
    backbone_family: peft.model.family,
    peft_ts_version: PEFT_TS_VERSION,
  };
}

/** The tensors of the adapter file (name → values), read from the current parameters. */
export function adapterTensors(peft: PeftModel, backboneNames: string[] = []): NamedTensor[] {
  const names = fileNames(peft, adapterTypeFor(peft), backboneNames);
  const params = new Map([...peft.store.namedParams(), ...peft.model.root.namedParams()]);
  const out: NamedTensor[] = [];
  for (const [ours, file] of names) {
    const p = params.get(ours)!;
    out.push({ name: file, shape: [...p.shape], data: p.value.dataSync() as Float32Array });
  }
  return out;
}

export function saveAdapter(peft: PeftModel, dir: string, opts: SaveOptions): { config: string; weights: string } {
  const config = join(dir, ADAPTER_CONFIG);
  const weights = join(dir, ADAPTER_WEIGHTS);
  writeSafetensors(weights, adapterTensors(peft, opts.backboneNames ?? []));
  writeJsonAtomic(config, adapterConfig(peft, opts));
  return { config, weights };
}
