// Which file name each trainable parameter gets, for the adapter type a plan is saved as.
import type { PeftModel } from '../../methods/inject.js';
import { PEFT_PREFIX, peftLoraName, unifiedName } from './names.js';
import { isPeftLora } from './lora-config.js';
import { UNIFIED_PEFT_TYPE } from './types.js';

export interface ParamRef {
  /** Our name (`<site>.<module>.<local>` for modules, the HF name for backbone parameters). */
  name: string;
  site: string | null;
  module: string | null;
  local: string;
}

/** Splits every adapter-store parameter into site, module and local name. */
export function adapterParamRefs(peft: PeftModel): ParamRef[] {
  const prefixes: { prefix: string; site: string; module: string }[] = [];
  for (const m of peft.modules) for (const s of m.sites) prefixes.push({ prefix: `${s.path}.${m.plan.name}.`, site: s.path, module: m.plan.name });
  // longest first, so a site path that extends another never matches the shorter one
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  const refs: ParamRef[] = [];
  for (const [name] of peft.store.namedParams()) {
    const hit = prefixes.find((p) => name.startsWith(p.prefix));
    if (hit) refs.push({ name, site: hit.site, module: hit.module, local: name.slice(hit.prefix.length) });
    else refs.push({ name, site: null, module: null, local: name });
  }
  return refs;
}

export type AdapterType = 'LORA' | typeof UNIFIED_PEFT_TYPE;

export function adapterTypeFor(peft: PeftModel): AdapterType {
  return isPeftLora(peft.method) ? 'LORA' : UNIFIED_PEFT_TYPE;
}

/** our name → file name, for the adapter parameters and the given backbone parameters. */
export function fileNames(peft: PeftModel, type: AdapterType, backboneNames: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ref of adapterParamRefs(peft)) {
    if (type === 'LORA' && ref.site) out.set(ref.name, peftLoraName(ref.site, ref.local));
    else out.set(ref.name, unifiedName(ref.name));
  }
  for (const n of backboneNames) out.set(n, PEFT_PREFIX + n);
  return out;
}
