// Which adapter type a method is saved as, and the tensors of its file. A plan is written as the
// Python peft type that expresses it exactly (peft would compute the same outputs), else as our
// own UNIFIED_VIEW type. Each type's config and tensor layout live in its own file.
import type { PeftModel } from '../../methods/inject.js';
import { LORA_FORMAT } from './lora-config.js';
import { IA3_FORMAT } from './ia3-config.js';
import { ADALORA_FORMAT } from './adalora-config.js';
import { LOHA_FORMAT } from './loha-config.js';
import { PREFIX_TUNING_FORMAT, PROMPT_TUNING_FORMAT } from './prompt-config.js';
import { POLY_FORMAT } from './poly-config.js';
import { UNIFIED_FORMAT } from './unified-config.js';
import { VERA_FORMAT } from './vera-config.js';
import { VBLORA_FORMAT } from './vblora-config.js';
import { CORDA_LORA_FORMAT } from './corda-config.js';
import { headEntries, onlyHeadTrains } from './entries.js';
import { UNIFIED_PEFT_TYPE, type AdapterEntry, type AdapterFormat } from './types.js';

/** Python peft's types we read and write, in the order they are tried when saving. */
export const PEFT_FORMATS: readonly AdapterFormat[] = [
  LORA_FORMAT, IA3_FORMAT, ADALORA_FORMAT, LOHA_FORMAT, PREFIX_TUNING_FORMAT, PROMPT_TUNING_FORMAT, VERA_FORMAT, VBLORA_FORMAT, CORDA_LORA_FORMAT, POLY_FORMAT,
];

export const ADAPTER_TYPES = [...new Set([...PEFT_FORMATS.map((f) => f.type), UNIFIED_PEFT_TYPE])];

export function formatOfType(type: string): AdapterFormat | null {
  return [...PEFT_FORMATS, UNIFIED_FORMAT].find((f) => f.type === type) ?? null;
}

/** The format a trained method is saved in: `backboneNames` are the backbone parameters that trained. */
export function formatFor(peft: PeftModel, backboneNames: string[] = []): AdapterFormat {
  if (peft.modules.length > 0 && !peft.selection && onlyHeadTrains(peft, backboneNames)) {
    const f = PEFT_FORMATS.find((x) => x.expresses(peft));
    if (f) return f;
  }
  return UNIFIED_FORMAT;
}

/** The adapter file's entries for a format: its own tensors, plus the task head for peft's types. */
export function adapterEntries(peft: PeftModel, format: AdapterFormat, backboneNames: string[] = []): AdapterEntry[] {
  const own = format.entries(peft, backboneNames);
  if (format.type === UNIFIED_PEFT_TYPE) return own;
  return [...own, ...headEntries(peft, format.promptLearning)];
}
