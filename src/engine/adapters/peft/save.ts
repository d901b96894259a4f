// Writing an adapter directory in the Hugging Face PEFT layout: adapter_config.json +
// adapter_model.safetensors, both atomically, in the Python peft type that expresses the
// method exactly (else our UNIFIED_VIEW type).
import { join } from 'node:path';
import { safetensorsSize, writeSafetensors, type NamedTensor } from '../../io/safetensors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import type { PeftModel } from '../../methods/inject.js';
import { adapterEntries, formatFor } from './codec.js';
import { ADAPTER_WEIGHTS } from './weights-file.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export { ADAPTER_WEIGHTS };
export { PEFT_TS_VERSION } from './unified-config.js';

export interface SaveOptions {
  /** Recorded as base_model_name_or_path. */
  baseModel: string;
  /** Backbone parameters that trained (head, unfrozen layers): saved in full. */
  backboneNames?: string[];
}

export function adapterConfig(peft: PeftModel, opts: SaveOptions): Record<string, unknown> {
  const names = opts.backboneNames ?? [];
  return formatFor(peft, names).config(peft, opts.baseModel, names);
}

/** The tensors of the adapter file (name → values), read from the current parameters. */
export function adapterTensors(peft: PeftModel, backboneNames: string[] = []): NamedTensor[] {
  const format = formatFor(peft, backboneNames);
  return adapterEntries(peft, format, backboneNames).map((e) => {
    const t = e.get();
    const values = t.dataSync();
    t.dispose();
    if (!e.dtype) return { name: e.name, shape: e.shape, data: values as Float32Array };
    const data = e.dtype === 'U8' ? Uint8Array.from(values) : e.dtype === 'I16' ? Int16Array.from(values) : Int32Array.from(values);
    return { name: e.name, shape: e.shape, data, dtype: e.dtype };
  });
}

export function saveAdapter(peft: PeftModel, dir: string, opts: SaveOptions): { config: string; weights: string; type: string } {
  const config = join(dir, ADAPTER_CONFIG);
  const weights = join(dir, ADAPTER_WEIGHTS);
  const names = opts.backboneNames ?? [];
  writeSafetensors(weights, adapterTensors(peft, names));
  const cfg = adapterConfig(peft, opts);
  writeJsonAtomic(config, cfg);
  return { config, weights, type: String(cfg.peft_type) };
}

/**
 * What saving would write, from shapes alone (no tensor is read): the adapter type and the bytes
 * of adapter_model.safetensors and of adapter_config.json.
 */
export function adapterSize(peft: PeftModel, opts: SaveOptions): { type: string; weights: number; config: number } {
  const names = opts.backboneNames ?? [];
  const format = formatFor(peft, names);
  const weights = safetensorsSize(adapterEntries(peft, format, names).map((e) => ({ name: e.name, shape: e.shape, dtype: e.dtype })));
  const config = Buffer.byteLength(JSON.stringify(format.config(peft, opts.baseModel, names), null, 2) + '\n');
  return { type: format.type, weights, config };
}
