// Parameter names in adapter files. Python peft prefixes module paths with `base_model.model.`
// and, for LoRA, names the factors `<module path>.lora_A.weight`; our own type keeps our
// internal names under the same prefix. The task head (modules_to_save) is saved in full under
// the same prefix.
export const PEFT_PREFIX = 'base_model.model.';

/** `<site>.<module>.lora_A` → `base_model.model.<site>.lora_A.weight` (module name dropped). */
export function peftLoraName(sitePath: string, local: string): string {
  return `${PEFT_PREFIX}${sitePath}.${local}.weight`;
}

export function unifiedName(internal: string): string {
  return PEFT_PREFIX + internal;
}
